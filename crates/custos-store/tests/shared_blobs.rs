//! A blob folder shared by several nodes: a node starting up does not destroy another node's
//! write in progress, and each node reads what the other stored.

use custos_store::{BlobStore, LocalBlobStore};
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn a_starting_node_keeps_the_other_nodes_writes() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let node_a = LocalBlobStore::open(dir.path())?;
    let mut writing = node_a.writer().await?;
    writing.write(b"first half ").await?;
    // Node B starts (and cleans up) while node A is writing.
    let node_b = LocalBlobStore::open(dir.path())?;
    writing.write(b"second half").await?;
    let key = uuid::Uuid::now_v7();
    writing.finish(key).await?;
    let mut read = node_b.reader(key).await?;
    let mut bytes = Vec::new();
    read.reader.read_to_end(&mut bytes).await?;
    assert_eq!(bytes, b"first half second half");

    // A part abandoned for longer than the limit is removed at the next start.
    let stale = dir.path().join("tmp").join("abandoned.part");
    std::fs::write(&stale, b"x")?;
    let old = std::time::SystemTime::now() - custos_store::STALE_PART;
    std::fs::File::options()
        .write(true)
        .open(&stale)?
        .set_modified(old)?;
    LocalBlobStore::open(dir.path())?;
    assert!(!stale.exists());
    Ok(())
}
