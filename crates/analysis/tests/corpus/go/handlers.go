// Package handlers serves the accounts API.
package handlers

import (
	"crypto/sha1"
	"crypto/tls"
	"database/sql"
	"fmt"
	"net/http"
	"os/exec"
)

var slackToken = "xoxb-2048-4096-abcdefghijklmnop" // expect: security.hardcoded-secret

// Account is one customer account.
type Account struct {
	ID   int
	Name string
}

// Find looks an account up by name.
func Find(db *sql.DB, name string) (*Account, error) {
	q := fmt.Sprintf("SELECT id, name FROM accounts WHERE name = '%s'", name) // expect: security.sql-injection
	row := db.QueryRow(q)
	var a Account
	if err := row.Scan(&a.ID, &a.Name); err != nil {
		return nil, err
	}
	return &a, nil
}

// FindByID uses a placeholder, as it should.
func FindByID(db *sql.DB, id int) (*Account, error) {
	row := db.QueryRow("SELECT id, name FROM accounts WHERE id = $1", id)
	var a Account
	err := row.Scan(&a.ID, &a.Name)
	return &a, err
}

// HashPassword is what not to do.
func HashPassword(pwd string) [20]byte {
	return sha1.Sum([]byte(pwd)) // expect: security.weak-password-hash
}

// Client talks to the partner API.
func Client() *http.Client {
	cfg := &tls.Config{InsecureSkipVerify: true} // expect: security.tls-verification-disabled
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}

// Run runs a maintenance script.
func Run(script string) error {
	return exec.Command("sh", "-c", script).Run() // expect: security.shell-injection
}
