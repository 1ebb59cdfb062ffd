"""Billing helpers for the invoices service."""

import hashlib
import os
import subprocess

import requests

API_TOKEN = "q8Zr2Lx9Vt4Pw7Nm3Ks6Yb1C"  # expect: security.hardcoded-secret
BASE_URL = os.environ.get("BILLING_URL", "https://billing.internal")


class InvoiceStore:
    def __init__(self, conn):
        self.conn = conn

    def find(self, customer_id):
        cur = self.conn.cursor()
        cur.execute("SELECT * FROM invoices WHERE customer_id = " + customer_id)  # expect: security.sql-injection
        return cur.fetchall()

    def find_safely(self, customer_id):
        cur = self.conn.cursor()
        cur.execute("SELECT * FROM invoices WHERE customer_id = %s", (customer_id,))
        return cur.fetchall()

    def totals(self, rows):
        total = 0
        for row in rows:
            if row["status"] == "paid" and row["amount"] > 0:
                total += row["amount"]
            elif row["status"] == "refunded":
                total -= row["amount"]
        return total


def hash_password(password):
    return hashlib.md5(password.encode()).hexdigest()  # expect: security.weak-password-hash


def fetch_rates(currency):
    response = requests.get(f"{BASE_URL}/rates/{currency}", verify=False)  # expect: security.tls-verification-disabled
    response.raise_for_status()
    return response.json()


def archive(path):
    os.system("tar czf /tmp/archive.tgz " + path)  # expect: security.shell-injection
    subprocess.run(["gzip", "-9", path], check=True)


def apply_rule(expression, invoice):
    # FIXME: replace with a rule engine expect: style.todo
    return eval(expression, {"invoice": invoice})  # expect: security.eval
