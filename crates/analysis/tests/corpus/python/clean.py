"""Report generation without any findings: parameters, placeholders, environment."""

import hashlib
import os

import requests

API_TOKEN = os.environ["REPORT_API_TOKEN"]


def checksum(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def fetch(url: str) -> dict:
    response = requests.get(url, timeout=10, headers={"Authorization": f"Bearer {API_TOKEN}"})
    response.raise_for_status()
    return response.json()


def monthly(conn, month: str) -> list:
    cur = conn.cursor()
    cur.execute("SELECT day, amount FROM sales WHERE month = %s ORDER BY day", (month,))
    rows = cur.fetchall()
    return [{"day": day, "amount": amount} for day, amount in rows if amount]
