//! Every rule once where it must fire and once where it must not.

use aura_analysis::{Language, Language::*, Severity, analyze};

fn fires(language: Language, code: &str, rule: &str) -> bool {
    analyze(language, code)
        .findings
        .iter()
        .any(|f| f.rule == rule)
}

#[track_caller]
fn check(rule: &str, positive: &[(Language, &str)], negative: &[(Language, &str)]) {
    for (language, code) in positive {
        assert!(
            fires(*language, code, rule),
            "{rule} should fire on {language:?}:\n{code}"
        );
    }
    for (language, code) in negative {
        assert!(
            !fires(*language, code, rule),
            "{rule} should not fire on {language:?}:\n{code}"
        );
    }
}

#[test]
fn syntax_errors_have_positions() {
    let a = analyze(Rust, "fn main() {\n    let x = ;\n}\n");
    let f = a
        .findings
        .iter()
        .find(|f| f.rule == "syntax")
        .expect("a syntax error");
    assert_eq!((f.line, f.severity), (2, Severity::Error));
    assert!(f.column >= 5, "{f:?}");
    check(
        "syntax",
        &[
            (Python, "def f(:\n  pass\n"),
            (JavaScript, "let = ;"),
            (Go, "package m\nfunc {"),
            (TypeScript, "const x: = 1;"),
        ],
        &[
            (Python, "def f():\n    pass\n"),
            (JavaScript, "let a = 1;"),
            (Go, "package m\nfunc f() {}\n"),
            (TypeScript, "const x: number = 1;"),
            (Rust, "fn main() {}"),
        ],
    );
}

#[test]
fn hardcoded_secrets() {
    check(
        "security.hardcoded-secret",
        &[
            (Python, "AWS_KEY = 'AKIAIOSFODNN7EXAMPLE'\n"),
            (JavaScript, "const apiKey = \"q8Zr2Lx9Vt4Pw7Nm3Ks6\";\n"),
            (
                Go,
                "var token = \"ghp_abcdefghijklmnopqrstuvwxyz0123456789\"\n",
            ),
            (
                Rust,
                "const KEY: &str = \"-----BEGIN RSA PRIVATE KEY-----\";\n",
            ),
        ],
        &[
            (Python, "api_key = os.environ['API_KEY']\n"),
            (JavaScript, "const password = \"aaaaaaaaaaaaaaaaaaaa\";\n"),
            (Go, "var name = \"q8Zr2Lx9Vt4Pw7Nm3Ks6\"\n"),
        ],
    );
}

#[test]
fn eval_of_dynamic_strings() {
    check(
        "security.eval",
        &[
            (JavaScript, "eval(userInput);"),
            (TypeScript, "const f = new Function(body);"),
            (Python, "exec(code)\n"),
        ],
        &[
            (JavaScript, "eval('1 + 1');"),
            (Python, "eval('2 * 3')\n"),
            (Python, "evaluate(code)\n"),
        ],
    );
}

#[test]
fn sql_built_by_concatenation_or_formatting() {
    check(
        "security.sql-injection",
        &[
            (
                Python,
                "q = \"SELECT * FROM users WHERE id = \" + user_id\n",
            ),
            (Python, "q = f\"DELETE FROM users WHERE id = {uid}\"\n"),
            (
                Python,
                "q = \"SELECT name FROM t WHERE id = {}\".format(uid)\n",
            ),
            (
                JavaScript,
                "db.query(`SELECT * FROM users WHERE name = '${name}'`);",
            ),
            (
                Go,
                "q := fmt.Sprintf(\"SELECT * FROM users WHERE id = %s\", id)\n",
            ),
            (
                Rust,
                "let q = format!(\"UPDATE users SET name = '{}' WHERE id = 1\", name);",
            ),
        ],
        &[
            (
                Python,
                "cur.execute(\"SELECT * FROM users WHERE id = %s\", (uid,))\n",
            ),
            (
                JavaScript,
                "db.query('SELECT * FROM users WHERE id = $1', [id]);",
            ),
            (Go, "db.Query(\"SELECT * FROM users WHERE id = $1\", id)\n"),
            (Python, "msg = \"selected \" + name\n"),
        ],
    );
}

#[test]
fn shell_commands_from_input() {
    check(
        "security.shell-injection",
        &[
            (Python, "os.system('rm -rf ' + path)\n"),
            (Python, "subprocess.run(cmd, shell=True)\n"),
            (JavaScript, "require('child_process').execSync(cmd);"),
            (
                Go,
                "package m\nfunc f(x string) { exec.Command(\"sh\", \"-c\", x) }\n",
            ),
        ],
        &[
            (Python, "subprocess.run(['ls', path])\n"),
            (Python, "os.system('ls')\n"),
            (
                Go,
                "package m\nfunc f(x string) { exec.Command(\"ls\", x) }\n",
            ),
        ],
    );
}

#[test]
fn md5_or_sha1_for_passwords() {
    check(
        "security.weak-password-hash",
        &[
            (
                Python,
                "digest = hashlib.md5(password.encode()).hexdigest()\n",
            ),
            (Go, "h := sha1.Sum([]byte(pwd))\n"),
        ],
        &[
            (Python, "etag = hashlib.md5(body).hexdigest()\n"),
            (Python, "hashed = argon2.hash(password)\n"),
        ],
    );
}

#[test]
fn tls_verification_disabled() {
    check(
        "security.tls-verification-disabled",
        &[
            (Python, "requests.get(url, verify=False)\n"),
            (JavaScript, "https.request({ rejectUnauthorized: false });"),
            (Go, "cfg := &tls.Config{InsecureSkipVerify: true}\n"),
            (
                Rust,
                "let c = Client::builder().danger_accept_invalid_certs(true);",
            ),
        ],
        &[
            (Python, "requests.get(url, verify=True)\n"),
            (Go, "cfg := &tls.Config{MinVersion: tls.VersionTLS12}\n"),
        ],
    );
}

#[test]
fn unsafe_blocks_in_rust_are_info() {
    let a = analyze(Rust, "fn f(p: *const u8) -> u8 { unsafe { *p } }\n");
    let f = a
        .findings
        .iter()
        .find(|f| f.rule == "rust.unsafe")
        .expect("unsafe found");
    assert_eq!(f.severity, Severity::Info);
    check("rust.unsafe", &[], &[(Rust, "fn f(p: &u8) -> u8 { *p }\n")]);
}

#[test]
fn style_rules() {
    let long = format!("x = \"{}\"\n", "a".repeat(130));
    check(
        "style.line-length",
        &[(Python, &long)],
        &[(Python, "x = 1\n")],
    );
    check(
        "style.trailing-whitespace",
        &[(Go, "package m   \n")],
        &[(Go, "package m\n")],
    );
    check(
        "style.todo",
        &[
            (Rust, "// TODO: handle errors\nfn f() {}\n"),
            (Python, "x = 1  # FIXME\n"),
        ],
        &[(Rust, "fn todo_list() {}\n"), (Python, "todo = []\n")],
    );
    let body: String = (0..90).map(|i| format!("    let v{i} = {i};\n")).collect();
    check(
        "style.long-function",
        &[(Rust, &format!("fn big() {{\n{body}}}\n"))],
        &[(Rust, "fn small() {\n    let a = 1;\n}\n")],
    );
}

#[test]
fn languages_come_from_extensions() {
    assert_eq!(Language::from_path("src/main.rs"), Some(Rust));
    assert_eq!(Language::from_path("app/views.PY"), Some(Python));
    assert_eq!(Language::from_path("web/index.tsx"), Some(TypeScript));
    assert_eq!(Language::from_path("lib/util.mjs"), Some(JavaScript));
    assert_eq!(Language::from_path("cmd/main.go"), Some(Go));
    assert_eq!(Language::from_path("README.md"), None);
    assert_eq!(Language::from_path("Makefile"), None);
}
