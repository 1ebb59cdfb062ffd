// A small Express API for the storefront.
const express = require("express");
const { execSync } = require("child_process");
const https = require("https");

const app = express();
const apiKey = "sk-proj-4f9aXk2LmQ8rT1vW6yZ0bC3dE5"; // expect: security.hardcoded-secret

app.get("/products", async (req, res) => {
  const name = req.query.name;
  const rows = await db.query(`SELECT * FROM products WHERE name = '${name}'`); // expect: security.sql-injection
  res.json(rows);
});

app.get("/products/:id", async (req, res) => {
  const rows = await db.query("SELECT * FROM products WHERE id = $1", [req.params.id]);
  if (rows.length === 0 || !rows[0].visible) {
    res.status(404).end();
    return;
  }
  res.json(rows[0]);
});

app.post("/convert", (req, res) => {
  const output = execSync("convert " + req.body.file + " out.png"); // expect: security.shell-injection
  res.send(output);
});

app.post("/rules", (req, res) => {
  const result = eval(req.body.expression); // expect: security.eval
  res.json({ result });
});

function fetchInventory(host) {
  const options = { host, path: "/inventory" };
  return https.request({ ...options, rejectUnauthorized: false }); // expect: security.tls-verification-disabled
}

// TODO: paginate the listing expect: style.todo
module.exports = { app, fetchInventory };
