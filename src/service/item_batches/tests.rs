use super::*;
use crate::domain::ids::InvoiceItemId;

fn queued() -> Queued {
    let (answer, _) = oneshot::channel();
    Queued {
        organization_id: OrganizationId::parse("org_lane").unwrap(),
        invoice_id: InvoiceId::parse("in_lane").unwrap(),
        write: ItemWrite::Delete {
            item_id: InvoiceItemId::parse("it_lane").unwrap(),
            if_match: None,
        },
        cause: Cause::default(),
        answer,
    }
}

/// A batch of `writes` that took `took_ms` and has just ended.
fn just_ended(writes: usize, took_ms: u64) -> LastBatch {
    LastBatch {
        writes,
        took: Duration::from_millis(took_ms),
        ended: Instant::now(),
    }
}

/// Sends `count` writes after `after_ms`.
fn send_later(sender: &mpsc::Sender<Queued>, count: usize, after_ms: u64) {
    let sender = sender.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        for _ in 0..count {
            sender.send(queued()).await.unwrap();
        }
    });
}

/// Gathers after `last` from one write queued and writes sent as `later` has them (how many,
/// after how many ms); the batch as gathered, the queue and its sender.
async fn gather_after(
    last: LastBatch,
    later: &[(usize, u64)],
) -> (Vec<Queued>, mpsc::Receiver<Queued>, mpsc::Sender<Queued>) {
    let (sender, mut queue) = mpsc::channel(LANE_QUEUE);
    for &(count, after_ms) in later {
        send_later(&sender, count, after_ms);
    }
    let mut batch = vec![queued()];
    last.gather(&mut queue, &mut batch).await;
    (batch, queue, sender)
}

#[tokio::test(start_paused = true)]
async fn a_lane_waits_until_as_many_writes_as_its_last_batch_have_queued() {
    let last = just_ended(3, 16);
    let (batch, ..) = gather_after(last, &[(2, 1), (5, 3)]).await;
    assert_eq!(batch.len(), 3, "the writes that came within 1 ms, no more");
    assert_eq!(Instant::now() - last.ended, Duration::from_millis(1));
}

#[tokio::test(start_paused = true)]
async fn a_lane_waits_a_quarter_of_its_last_batch_at_most() {
    let last = just_ended(16, 16);
    let (mut batch, mut queue, _sender) = gather_after(last, &[(1, 1), (1, 5)]).await;
    assert_eq!(
        batch.len(),
        2,
        "the write that came after 4 ms waits for the next batch"
    );
    assert_eq!(Instant::now() - last.ended, Duration::from_millis(4));
    let long = just_ended(16, 1_000);
    long.gather(&mut queue, &mut batch).await;
    assert_eq!(Instant::now() - long.ended, MAX_GATHER);
}

#[tokio::test(start_paused = true)]
async fn a_write_after_a_lone_write_does_not_wait() {
    let last = just_ended(1, 40);
    let (batch, ..) = gather_after(last, &[]).await;
    assert_eq!(batch.len(), 1);
    assert_eq!(
        Instant::now(),
        last.ended,
        "one write was as many as the last batch's"
    );
}
