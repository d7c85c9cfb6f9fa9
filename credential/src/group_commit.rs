//! Group commit for a store whose durability point is a flush (the issuer's and the verifier's
//! sled stores both use it).
//!
//! Callers that arrive while a flush runs wait for the next one, so concurrent requests share
//! fsyncs instead of queueing one each. Not protocol logic, but shared by both services.

use std::sync::{Condvar, Mutex, PoisonError};

/// Shares flushes between concurrent callers; see the module documentation.
#[derive(Default)]
pub struct GroupCommit {
    /// (tickets handed out, tickets known durable, a flush is running)
    state: Mutex<(u64, u64, bool)>,
    done: Condvar,
}

impl GroupCommit {
    /// Returns once a flush that started after this call has succeeded; leads one if none runs.
    /// A failed flush fails the callers waiting on it; the next call tries again.
    pub fn commit<E>(&self, flush: impl Fn() -> Result<(), E>) -> Result<(), E> {
        // The lock is never held across `flush` or anything that can panic, so a poisoned
        // lock still holds consistent counters.
        let mut g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        g.0 += 1;
        let ticket = g.0;
        loop {
            if g.1 >= ticket {
                return Ok(());
            }
            if !g.2 {
                // Lead a flush covering every ticket handed out so far: their writes finished
                // before they took a ticket.
                g.2 = true;
                let target = g.0;
                drop(g);
                let result = flush();
                g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                g.2 = false;
                if result.is_ok() {
                    g.1 = g.1.max(target);
                }
                self.done.notify_all();
                result?;
                continue;
            }
            g = self.done.wait(g).unwrap_or_else(PoisonError::into_inner);
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
        let gc = Arc::new(GroupCommit::default());
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
        let gc = GroupCommit::default();
        assert_eq!(gc.commit(|| Err("disk full")), Err("disk full"));
        assert_eq!(gc.commit(|| Ok::<(), &str>(())), Ok(()));
    }
}
