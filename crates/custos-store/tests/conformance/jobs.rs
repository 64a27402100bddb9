//! Job leases: of two nodes claiming a due job at once exactly one wins; a job is not due
//! again before its next run; a lease that lapses (its node died) passes to another node, and
//! the dead node's late finish then changes nothing.

use crate::*;
use std::sync::Arc;

pub(crate) async fn one_claim_wins_and_a_lapsed_lease_passes_on(
    [a, b]: [Arc<dyn Store>; 2],
) -> TestResult {
    let t0 = now();
    let lease = time::Duration::seconds(30);
    let every = time::Duration::seconds(60);

    // Both nodes claim the never-run job at the same instant: one wins.
    let claim = |store: Arc<dyn Store>, holder: &'static str, at: Timestamp| async move {
        let mut tx = store.begin().await?;
        let won = tx.claim_job("sweep", holder, at, at + lease).await?;
        tx.commit().await?;
        Ok::<bool, StoreError>(won)
    };
    let (x, y) = tokio::join!(claim(a.clone(), "a/1", t0), claim(b.clone(), "b/1", t0));
    let (x, y) = (x?, y?);
    assert!(x ^ y, "exactly one claim wins: a {x}, b {y}");
    let (winner, loser, holder) = if x { (&a, &b, "a/1") } else { (&b, &a, "b/1") };

    // While the lease is live nobody else claims it.
    assert!(!claim(loser.clone(), "l/2", t0 + time::Duration::seconds(5)).await?);

    // The winner finishes: the job is next due at t0 + every, not before.
    let mut tx = winner.begin().await?;
    let done = tx
        .finish_job(
            "sweep",
            holder,
            t0 + time::Duration::seconds(2),
            t0 + every,
            Ok(3),
        )
        .await?;
    tx.commit().await?;
    assert!(done);
    assert!(!claim(loser.clone(), "l/3", t0 + time::Duration::seconds(59)).await?);
    let mut read = loser.begin_read().await?;
    let rows = read.jobs().await?;
    read.commit().await?;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].runs, rows[0].last_changed), (1, Some(3)));
    assert_eq!(rows[0].next_run_at, t0 + every);
    assert_eq!(rows[0].last_error, None);

    // Due again: the loser claims it, then "dies" holding the lease.
    assert!(claim(loser.clone(), "l/4", t0 + every).await?);
    assert!(
        !claim(
            winner.clone(),
            "w/5",
            t0 + every + time::Duration::seconds(29)
        )
        .await?
    );
    // The lease lapses: the other node takes over.
    let later = t0 + every + lease;
    assert!(claim(winner.clone(), "w/6", later).await?);
    // The dead node's late finish is refused and changes nothing.
    let mut tx = loser.begin().await?;
    let stale = tx
        .finish_job("sweep", "l/4", later, later + every, Ok(99))
        .await?;
    tx.commit().await?;
    assert!(!stale, "a lost claim must not record its outcome");
    // The live claim finishes with an error, which is kept.
    let mut tx = winner.begin().await?;
    assert!(
        tx.finish_job("sweep", "w/6", later, later + every, Err("disk full"))
            .await?
    );
    tx.commit().await?;
    let mut read = winner.begin_read().await?;
    let row = read.jobs().await?.remove(0);
    read.commit().await?;
    assert_eq!(row.runs, 2);
    assert_eq!(row.last_error.as_deref(), Some("disk full"));
    assert_eq!(row.last_changed, None);
    assert_eq!(row.holder.as_deref(), Some("w/6"));
    Ok(())
}
