//! Mail through a real SMTP server (PyPI aiosmtpd, started here; `scripts/test` installs it and
//! sets CUSTOS_TEST_SMTP_PYTHON): the outbox goes out over STARTTLS and each sent body is
//! erased; a relay that does not offer STARTTLS gets nothing and the mail stays queued.

use crate::harness::{TestResult, spawn_demo_firm};
use crate::transfers::released;
use custos_app::{MailConfig, Mailer};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sink(python: &str, cert: &std::path::Path, key: &std::path::Path, mode: &str) -> Sink {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/smtp/sink.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(cert)
        .arg(key)
        .arg(port.to_string())
        .arg(dir.path())
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    Sink { child, port, dir }
}

fn received(s: &Sink) -> Vec<(String, String)> {
    let mut out: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    out.sort();
    out.iter()
        .map(|p| {
            (
                std::fs::read_to_string(p).unwrap(),
                std::fs::read_to_string(p.with_extension("tls")).unwrap(),
            )
        })
        .collect()
}

fn config(port: u16) -> MailConfig {
    MailConfig {
        smtp_host: "localhost".to_owned(),
        smtp_port: port,
        from: "custos@firm.example".to_owned(),
        username: None,
        password_file: None,
        ca_file: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_goes_out_over_starttls_only_and_sent_bodies_are_erased() -> TestResult {
    let Ok(python) = std::env::var("CUSTOS_TEST_SMTP_PYTHON") else {
        eprintln!("SMTP SKIPPED: CUSTOS_TEST_SMTP_PYTHON is not set (scripts/test sets it)");
        return Ok(());
    };
    let tls = custos_crypto::self_signed_tls(&["localhost"])?;
    let keys = tempfile::tempdir()?;
    let (cert, key) = (keys.path().join("cert.pem"), keys.path().join("key.pem"));
    std::fs::write(&cert, &tls.cert_pem)?;
    std::fs::write(&key, tls.key_pem.as_bytes())?;
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let email = "mailed@expert.example";
    let (base, _) = released(&t, email, 1).await;

    // A relay that never offers STARTTLS gets nothing: the mail stays queued with the error.
    let plain = sink(&python, &cert, &key, "plain");
    let mailer = Mailer::new(&config(plain.port), None, Some(tls.cert_pem.as_bytes()))?;
    let run = t.app.clone().with_mailer(mailer).send_outbox().await?;
    assert_eq!((run.sent, run.failed), (0, 1));
    assert!(
        received(&plain).is_empty(),
        "nothing reached the relay without TLS"
    );
    let (_, outbox) = t.get_json(&officer, "/api/outbox").await;
    assert!(outbox["items"][0]["sent_at"].is_null());
    assert!(
        outbox["items"][0]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("/release/")
    );

    // A relay with STARTTLS and a certificate we trust takes it.
    let good = sink(&python, &cert, &key, "starttls");
    let mailer = Mailer::new(&config(good.port), None, Some(tls.cert_pem.as_bytes()))?;
    let app = t.app.clone().with_mailer(mailer);
    let run = app.send_outbox().await?;
    assert_eq!((run.sent, run.failed), (1, 0));
    let got = received(&good);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, "yes", "delivered over STARTTLS");
    assert!(got[0].0.contains(&format!("To: {email}")), "{}", got[0].0);
    assert!(got[0].0.contains("/release/"));
    let (_, outbox) = t.get_json(&officer, "/api/outbox").await;
    assert!(!outbox["items"][0]["sent_at"].is_null());
    assert_eq!(outbox["items"][0]["body"], "", "the sent body is erased");

    // The recipient's one-time code arrives by mail too; the mailed code opens the link.
    let r = t.http.post(t.url(&format!("{base}/code"))).send().await?;
    assert_eq!(r.status(), reqwest::StatusCode::ACCEPTED);
    assert_eq!(app.send_outbox().await?.sent, 1);
    let got = received(&good);
    let mail = &got[1].0;
    let code: String = mail
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_default()
        .to_owned();
    let r = t
        .http
        .post(t.url(&format!("{base}/open")))
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await?;
    assert_eq!(
        r.status(),
        reqwest::StatusCode::OK,
        "the mailed code opens the link"
    );

    // A relay whose certificate we do not trust gets nothing either.
    let other = custos_crypto::self_signed_tls(&["localhost"])?;
    let mailer = Mailer::new(&config(good.port), None, Some(other.cert_pem.as_bytes()))?;
    let r = t.http.post(t.url(&format!("{base}/code"))).send().await?;
    assert_eq!(r.status(), reqwest::StatusCode::ACCEPTED);
    let run = t.app.clone().with_mailer(mailer).send_outbox().await?;
    assert_eq!((run.sent, run.failed), (0, 1));
    assert_eq!(received(&good).len(), 2);
    Ok(())
}
