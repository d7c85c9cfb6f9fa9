//! Group commit for a store whose durability point is a flush.
//!
//! Callers that arrive while a flush runs wait for the next one, so concurrent requests share
//! fsyncs instead of queueing one each. A caller never waits longer than the limit given to
//! [`GroupCommit::new`] for a flush that another caller leads: a disk that stops answering gives
//! [`CommitError::Stalled`] (a 503 for the services), not a request that hangs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// The zero of [`GroupCommit::started_ms`].
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Why [`GroupCommit::commit`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitError<E> {
    /// The flush failed.
    Flush(E),
    /// The flush led by another caller has not returned within the limit; it has been running
    /// for this long.
    Stalled(Duration),
}

#[derive(Default)]
struct State {
    /// Tickets handed out.
    issued: u64,
    /// Tickets known durable.
    durable: u64,
    /// When the running flush started, if one runs.
    running_since: Option<Instant>,
}

/// Shares flushes between concurrent callers; see the module documentation.
pub struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
    max_wait: Duration,
    /// When the running flush started, in milliseconds after [`epoch`] plus one; 0 when none
    /// runs. Read without the lock by [`GroupCommit::running_for`], which every store call asks.
    started_ms: AtomicU64,
}

impl GroupCommit {
    /// A group commit whose callers wait at most `max_wait` for a flush led by another caller.
    pub fn new(max_wait: Duration) -> Self {
        GroupCommit {
            state: Mutex::default(),
            done: Condvar::new(),
            max_wait,
            started_ms: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The lock is never held across `flush` or anything that can panic, so a poisoned lock
        // still holds consistent counters.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long the running flush has been running (to the millisecond), if one runs. Cheap: it
    /// takes no lock.
    pub fn running_for(&self) -> Option<Duration> {
        match self.started_ms.load(Ordering::Acquire) {
            0 => None,
            started => {
                let now = epoch().elapsed().as_millis() as u64 + 1;
                Some(Duration::from_millis(now.saturating_sub(started)))
            }
        }
    }

    /// Returns once a flush that started after this call has succeeded; leads one if none runs.
    /// A failed flush fails the callers waiting on it; the next call tries again. The caller
    /// that leads a flush waits for it however long it takes (it runs on that caller's thread);
    /// the others give up after the limit.
    pub fn commit<E>(&self, flush: impl Fn() -> Result<(), E>) -> Result<(), CommitError<E>> {
        let deadline = Instant::now() + self.max_wait;
        let mut g = self.lock();
        g.issued += 1;
        let ticket = g.issued;
        loop {
            if g.durable >= ticket {
                return Ok(());
            }
            let Some(since) = g.running_since else {
                // Lead a flush covering every ticket handed out so far: their writes finished
                // before they took a ticket.
                g.running_since = Some(Instant::now());
                let started = epoch().elapsed().as_millis() as u64 + 1;
                self.started_ms.store(started, Ordering::Release);
                let target = g.issued;
                drop(g);
                let result = flush();
                g = self.lock();
                g.running_since = None;
                self.started_ms.store(0, Ordering::Release);
                if result.is_ok() {
                    g.durable = g.durable.max(target);
                }
                self.done.notify_all();
                result.map_err(CommitError::Flush)?;
                continue;
            };
            let now = Instant::now();
            if now >= deadline {
                return Err(CommitError::Stalled(now.saturating_duration_since(since)));
            }
            g = self
                .done
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    #[test]
    fn every_caller_waits_for_a_flush_that_began_after_its_write_and_flushes_are_shared() {
        let gc = Arc::new(GroupCommit::new(Duration::from_secs(60)));
        let writes = Arc::new(AtomicU64::new(0));
        let flushed_upto = Arc::new(AtomicU64::new(0));
        let flushes = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gc, writes, flushed_upto, flushes) = (
                    gc.clone(),
                    writes.clone(),
                    flushed_upto.clone(),
                    flushes.clone(),
                );
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let mine = writes.fetch_add(1, Ordering::SeqCst) + 1;
                        gc.commit(|| {
                            let upto = writes.load(Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_micros(200));
                            flushed_upto.fetch_max(upto, Ordering::SeqCst);
                            flushes.fetch_add(1, Ordering::SeqCst);
                            Ok::<(), ()>(())
                        })
                        .expect("commit");
                        assert!(
                            flushed_upto.load(Ordering::SeqCst) >= mine,
                            "returned before its write was flushed"
                        );
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let n = flushes.load(Ordering::SeqCst);
        assert!(n < 1600, "1600 commits shared {n} flushes");
    }

    #[test]
    fn a_failed_flush_fails_the_waiters_and_the_next_call_retries() {
        let gc = GroupCommit::new(Duration::from_secs(60));
        assert_eq!(
            gc.commit(|| Err("disk full")),
            Err(CommitError::Flush("disk full"))
        );
        assert_eq!(gc.commit(|| Ok::<(), &str>(())), Ok(()));
    }

    #[test]
    fn a_flush_that_does_not_return_stalls_the_others_only_up_to_the_limit() {
        let gc = Arc::new(GroupCommit::new(Duration::from_millis(300)));
        let (release, stuck) = std::sync::mpsc::channel::<()>();
        let leader = {
            let gc = gc.clone();
            std::thread::spawn(move || {
                gc.commit(|| {
                    // A disk that does not answer until released.
                    let _ = stuck.recv();
                    Ok::<(), ()>(())
                })
            })
        };
        while gc.running_for().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let start = Instant::now();
        let waited = gc.commit(|| Ok::<(), ()>(()));
        let took = start.elapsed();
        match waited {
            Err(CommitError::Stalled(running)) => assert!(running >= Duration::from_millis(300)),
            other => panic!("expected a stall, got {other:?}"),
        }
        assert!(took >= Duration::from_millis(300), "gave up after {took:?}");
        assert!(gc.running_for().is_some(), "the stalled flush still runs");
        release.send(()).expect("release");
        assert_eq!(leader.join().expect("leader"), Ok(()));
        assert_eq!(gc.running_for(), None);
        // Once the disk answers again, callers are served as before.
        assert_eq!(gc.commit(|| Ok::<(), ()>(())), Ok(()));
    }
}
