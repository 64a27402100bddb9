//! Invariant 4: plaintext never touches disk. A unique marker goes into every sensitive field
//! and into document content; then every file under the data directory is scanned for it.

use crate::harness::{TestResult, full_provenance, spawn_demo_firm};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;

pub(crate) fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files_under(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_reaches_the_data_directory() -> TestResult {
    let t = spawn_demo_firm().await;
    let marker = format!("CANARY{}", uuid::Uuid::new_v4().simple());
    let paula = t.login("paula.partner").await;
    let carl = t.login("carl.corplead").await;

    let client: Value = t
        .post_json(&paula, "/api/clients", &json!({ "name": format!("{marker} client"), "contact": format!("{marker}@mail.example") }))
        .await
        .json()
        .await?;
    let client_id = client["id"].as_str().unwrap_or_default().to_owned();
    let team = t.firm.teams["Corporate"].to_string();
    // The responsible partner opens the matter (a right to the client is needed); Carl leads it.
    let created = t
        .post_json(&paula, "/api/matters", &json!({ "client": client_id, "team": team, "lead": t.person("carl.corplead"), "title": format!("{marker} matter") }))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let matter: Value = created.json().await?;
    let matter_id = matter["id"].as_str().unwrap_or_default().to_owned();

    let mut provenance = full_provenance();
    for field in [
        "source",
        "content_description",
        "purpose",
        "legal_basis",
        "collected_by",
    ] {
        provenance[field] = json!(format!("{marker} {field}"));
    }
    // The marker at the start, across a chunk boundary, and at the end of the content.
    let mut content = marker.as_bytes().to_vec();
    content.resize(65536 - 10, b'x');
    content.extend_from_slice(marker.as_bytes());
    content.resize(200_000, b'y');
    content.extend_from_slice(marker.as_bytes());
    let metadata = json!({ "title": format!("{marker} title"), "classification": "privileged", "provenance": provenance });
    let uploaded = t
        .upload_raw(&carl, &matter_id, metadata, content.clone())
        .await;
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let doc: Value = uploaded.json().await?;

    // The system does hold the marker: it comes back to an authorised reader.
    let back = t
        .get(
            &carl,
            &format!(
                "/api/documents/{}/content",
                doc["id"].as_str().unwrap_or_default()
            ),
        )
        .await;
    assert_eq!(back.bytes().await?.to_vec(), content);
    let (_, meta) = t
        .get_json(
            &carl,
            &format!("/api/documents/{}", doc["id"].as_str().unwrap_or_default()),
        )
        .await;
    assert_eq!(meta["title"], json!(format!("{marker} title")));

    // A wall's reason may name a client: it is sealed too, and the officer reads it back.
    let officer = t.login("olivia.officer").await;
    let wall = json!({ "subject": { "kind": "person", "id": t.person("omar.lawyer") },
                       "object": { "kind": "matter", "id": matter_id },
                       "reason": format!("{marker} acted for the counterparty") });
    let r = t.post_json(&officer, "/api/walls", &wall).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let (_, walls) = t.get_json(&officer, "/api/walls?limit=200").await;
    assert!(
        walls
            .to_string()
            .contains(&format!("{marker} acted for the counterparty"))
    );

    let mut files = Vec::new();
    files_under(t.data_dir.root(), &mut files)?;
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "blob")),
        "blobs were scanned"
    );
    assert!(
        files.iter().any(|f| f.to_string_lossy().ends_with("-wal")),
        "the WAL was scanned"
    );
    let mut leaks = Vec::new();
    for f in &files {
        if contains(&std::fs::read(f)?, marker.as_bytes()) {
            leaks.push(f.display().to_string());
        }
    }
    assert!(
        leaks.is_empty(),
        "marker found in plain bytes in: {leaks:?}"
    );

    // The scanner does find the marker where it is in plain bytes.
    let control = t
        .data_dir
        .root()
        .parent()
        .map(|p| p.join("control.txt"))
        .unwrap_or_default();
    std::fs::write(&control, format!("abc{marker}def"))?;
    assert!(contains(&std::fs::read(&control)?, marker.as_bytes()));
    Ok(())
}
