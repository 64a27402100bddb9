//! The `custos` binary: init refuses to overwrite, bad input gives one clear line and a non-zero
//! exit, never a panic.

use std::process::{Command, Output};

fn custos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .env_remove("CUSTOS_DATA_DIR")
        .env_remove("CUSTOS_LISTEN")
        .output()
        .unwrap_or_else(|e| panic!("run custos: {e}"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure: non-zero exit, exactly one line on stderr, no panic or backtrace.
fn assert_clean_failure(o: &Output, contains: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "should fail: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(
        err.contains(contains),
        "{err:?} should mention {contains:?}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn init_creates_a_private_data_dir_and_refuses_to_run_twice() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("firm");
    let d = dir.to_str().unwrap_or_default();
    let first = custos(&["init", "--data-dir", d, "--officer", "first.officer"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        out.contains("first.officer") && out.contains("one-time password"),
        "{out}"
    );
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("kek.key")), 0o600);
    assert_eq!(mode(&dir.join("custos.db")), 0o600);
    assert_eq!(mode(&dir.join("blobs")), 0o700);
    assert_eq!(mode(&dir.join("blobs/tmp")), 0o700);
    // The self-signed certificate lives a year (not 1975 to 4096) and names this host.
    let cert = dir.join("tls/cert.pem");
    let checkend = |days: u64| {
        Command::new("openssl")
            .args(["x509", "-noout", "-in"])
            .arg(&cert)
            .args(["-checkend", &(days * 86_400).to_string()])
            .output()
            .unwrap_or_else(|e| panic!("openssl (Debian package openssl) is needed: {e}"))
            .status
            .success()
    };
    assert!(checkend(364), "valid for the coming year");
    assert!(!checkend(367), "but not beyond");
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(&cert)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    assert!(subject.contains("Custos"), "{subject}");
    assert!(
        subject.contains(host.trim()) || subject.contains("localhost"),
        "{subject}"
    );
    assert_eq!(mode(&dir.join("tls/key.pem")), 0o600);
    assert_eq!(
        std::fs::metadata(dir.join("kek.key"))
            .map(|m| m.len())
            .unwrap_or(0),
        32
    );

    let second = custos(&["init", "--data-dir", d]);
    assert_clean_failure(&second, "refusing to overwrite");

    // The key file must stay private: serve refuses a readable one.
    std::fs::set_permissions(dir.join("kek.key"), std::fs::Permissions::from_mode(0o644))
        .unwrap_or_default();
    let serve = custos(&["serve", "--data-dir", d, "--listen", "127.0.0.1:0"]);
    assert_clean_failure(&serve, "must be 0600");
    std::fs::set_permissions(dir.join("kek.key"), std::fs::Permissions::from_mode(0o600))
        .unwrap_or_default();

    // A port already in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = taken.local_addr().map(|a| a.port()).unwrap_or_default();
    let serve = custos(&[
        "serve",
        "--data-dir",
        d,
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    assert_clean_failure(&serve, "cannot listen on");

    // The audit log of a fresh firm verifies.
    let verify = custos(&["audit", "verify", "--data-dir", d]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

#[test]
fn bad_input_is_one_clear_line() {
    assert_clean_failure(&custos(&["init", "--bogus"]), "--bogus");
    assert_clean_failure(&custos(&["frobnicate"]), "frobnicate");
    assert_clean_failure(
        &custos(&["serve", "--listen", "not-an-address"]),
        "not-an-address",
    );
    assert_clean_failure(
        &custos(&["serve", "--data-dir", "/nonexistent/custos"]),
        "custos init",
    );
    let file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    let path = file.path().to_str().unwrap_or_default();
    assert_clean_failure(&custos(&["serve", "--data-dir", path]), "cannot read");
    assert_clean_failure(
        &custos(&["init", "--data-dir", "/proc/custos-cannot-be-here"]),
        "cannot create",
    );
}

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["init", "--help"],
        &["serve", "--help"],
        &["demo", "--help"],
        &["audit", "verify", "--help"],
        &["policy", "test", "--help"],
    ] {
        let o = custos(args);
        assert!(o.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

/// `audit verify` checks against a head given on the command line and the one recorded in the
/// data directory; `serve` refuses a log that no longer holds the recorded head.
#[test]
fn verify_and_serve_check_the_recorded_audit_head() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("firm");
    let d = dir.to_str().unwrap_or_default();
    assert!(custos(&["init", "--data-dir", d]).status.success());
    let ok = custos(&["audit", "verify", "--data-dir", d]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let out = String::from_utf8_lossy(&ok.stdout).into_owned();
    let head = out
        .split("head now: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no head in {out}"))
        .to_owned();
    assert!(head.starts_with("1:"), "{head}");
    let again = custos(&["audit", "verify", "--data-dir", d, "--head", &head]);
    assert!(again.status.success(), "{}", stderr(&again));
    // A head the log never reached (or no longer holds): a cut tail.
    let hash = head.split(':').nth(1).unwrap_or_default();
    let later = format!("7:{hash}");
    let cut = custos(&["audit", "verify", "--data-dir", d, "--head", &later]);
    assert_clean_failure(&cut, "entries were cut");
    assert_clean_failure(
        &custos(&["audit", "verify", "--data-dir", d, "--head", "seven"]),
        "expected <sequence number>:<64 hex digits>",
    );
    std::fs::write(dir.join("audit.head"), format!("{later}\n")).unwrap_or_default();
    let serve = custos(&["serve", "--data-dir", d, "--listen", "127.0.0.1:0"]);
    assert_clean_failure(&serve, "no longer holds the recorded head");
}

/// Database files and blob folders are private, and `serve` refuses them otherwise.
#[test]
fn serve_refuses_a_data_directory_that_others_may_read() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("firm");
    let d = dir.to_str().unwrap_or_default();
    assert!(custos(&["init", "--data-dir", d]).status.success());
    for (path, loose) in [("custos.db", 0o644), ("blobs", 0o755), ("", 0o750)] {
        let target = dir.join(path);
        let before = std::fs::metadata(&target)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(loose))
            .unwrap_or_else(|e| panic!("{e}"));
        let serve = custos(&["serve", "--data-dir", d, "--listen", "127.0.0.1:0"]);
        assert_clean_failure(&serve, "group or others may read it");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(before))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// `custos policy test`: the firm's own cases against the policy in force and against a
/// proposed firm policy set; mismatches are listed with their reasons and fail the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_test_runs_the_firms_cases_against_current_and_proposed_policies() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = tmp.path().join("data");
    let outcome = custos_app::init_data_dir(&root, "olivia.officer", &Default::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let firm =
        custos_app::seed_demo_firm(&outcome.app, outcome.officer.id, outcome.officer_password)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    outcome.app.close().await;
    let d = root.to_str().unwrap_or_default();
    let cases = tmp.path().join("cases.csv");
    let d8 = firm.documents["D8"];
    let table = format!(
        "# the firm's cases\nperson,action,record,expected\n\
                 lena.lawyer,matter.view,M-0001,allow\n\
                 lena.lawyer,document.read,{d8},deny\n\
                 lena.lawyer,matter.view,M-0004,deny\n\
                 olivia.officer,matter.view,M-0004,allow\n\
                 ivan.intern,matter.view,M-0002,allow\n\
                 paula.partner,client.view,C-0001,allow\n"
    );
    std::fs::write(&cases, table).unwrap_or_else(|e| panic!("{e}"));
    let c = cases.to_str().unwrap_or_default();
    let run = custos(&["policy", "test", c, "--data-dir", d]);
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "{out}{}", stderr(&run));
    assert!(
        out.contains("6 cases against the policy in force: 6 as expected, 0 mismatched"),
        "{out}"
    );

    // A proposed policy that keeps interns out of everything: the intern's case now fails,
    // naming the policy; nothing was saved, so the policy in force still passes.
    let proposed = tmp.path().join("proposed.cedar");
    std::fs::write(
        &proposed,
        "@id(\"no-interns\") forbid(principal, action, resource) when { principal.role == \"intern\" };",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let p = proposed.to_str().unwrap_or_default();
    let run = custos(&["policy", "test", c, "--policies", p, "--data-dir", d]);
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(!run.status.success(), "{out}");
    assert!(
        out.contains("line 7: ivan.intern matter.view M-0002: expected allow, got deny")
            && out.contains("`no-interns`"),
        "{out}"
    );
    assert!(out.contains("5 as expected, 1 mismatched"), "{out}");
    assert_clean_failure(&run, "1 of 6 cases did not match");
    assert!(
        custos(&["policy", "test", c, "--data-dir", d])
            .status
            .success()
    );

    // Bad tables and bad policies: one clear line each.
    std::fs::write(&proposed, "permit(principal, action, resource);").unwrap_or_default();
    assert_clean_failure(
        &custos(&["policy", "test", c, "--policies", p, "--data-dir", d]),
        "may only forbid",
    );
    for (bad, says) in [
        ("who,what\n", "header"),
        (
            "person,action,record,expected\nlena.lawyer,matter.peek,M-0001,allow\n",
            "line 2: unknown action `matter.peek`",
        ),
        (
            "person,action,record,expected\nnobody,matter.view,M-0001,allow\n",
            "line 2: no person `nobody`",
        ),
        (
            "person,action,record,expected\nlena.lawyer,matter.view,M-9999,maybe\n",
            "line 2: expected `allow` or `deny`",
        ),
        (
            "person,action,record,expected\nlena.lawyer,matter.view,M-9999,allow\n",
            "line 2: no matter M-9999",
        ),
    ] {
        std::fs::write(&cases, bad).unwrap_or_default();
        assert_clean_failure(&custos(&["policy", "test", c, "--data-dir", d]), says);
    }
}

/// `custos audit pubkey`, `checkpoint`, `prove` and `verify-proof` (which needs nothing but
/// the files and the key), and `verify --checkpoint` with a checkpoint kept outside.
#[test]
fn audit_proofs_from_the_console_verify_offline() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("firm");
    let d = dir.to_str().unwrap_or_default();
    let init = custos(&["init", "--data-dir", d]);
    let printed = String::from_utf8_lossy(&init.stdout).into_owned();
    let pubkey = custos(&["audit", "pubkey", "--data-dir", d]);
    assert!(pubkey.status.success(), "{}", stderr(&pubkey));
    let key = String::from_utf8_lossy(&pubkey.stdout).trim().to_owned();
    assert!(
        printed.contains(&key),
        "init prints the verifier key: {printed}"
    );
    let signed = custos(&["audit", "checkpoint", "--data-dir", d]);
    assert!(signed.status.success(), "{}", stderr(&signed));
    let note = String::from_utf8_lossy(&signed.stdout).into_owned();
    assert!(note.lines().nth(1) == Some("1"), "{note}");
    let kept = tmp.path().join("kept.checkpoint");
    std::fs::write(&kept, &note).unwrap_or_default();

    let prove = custos(&["audit", "prove", "--data-dir", d, "--seq", "1"]);
    assert!(prove.status.success(), "{}", stderr(&prove));
    let proof = tmp.path().join("proof.json");
    std::fs::write(&proof, &prove.stdout).unwrap_or_default();
    let p = proof.to_str().unwrap_or_default();
    let ok = custos(&["audit", "verify-proof", p, "--key", &key]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("entry 1 is in the log"));
    let forged = String::from_utf8_lossy(&prove.stdout).replace("person.bootstrap", "person.boot");
    std::fs::write(&proof, forged).unwrap_or_default();
    assert_clean_failure(
        &custos(&["audit", "verify-proof", p, "--key", &key]),
        "proof does not match",
    );
    let prove = custos(&["audit", "prove", "--data-dir", d, "--from", "1"]);
    assert!(prove.status.success(), "{}", stderr(&prove));
    std::fs::write(&proof, &prove.stdout).unwrap_or_default();
    let k = kept.to_str().unwrap_or_default();
    let ok = custos(&["audit", "verify-proof", p, "--key", &key, "--checkpoint", k]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_clean_failure(
        &custos(&["audit", "prove", "--data-dir", d, "--seq", "9"]),
        "not found",
    );

    let verify = custos(&["audit", "verify", "--data-dir", d, "--checkpoint", k]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    let out = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(
        out.contains("3 signed checkpoints match"),
        "stored, recorded, kept: {out}"
    );
    std::fs::write(&kept, note.replace("\n1\n", "\n2\n")).unwrap_or_default();
    assert_clean_failure(
        &custos(&["audit", "verify", "--data-dir", d, "--checkpoint", k]),
        "not signed by this log's key",
    );
}
