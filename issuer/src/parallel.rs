//! Spreading one request's independent signature work over the machine's cores.
//!
//! A batch credential request carries up to `batch_size` proofs, each needing a signature check,
//! and yields as many credentials, each needing a signature. Those are independent, so a
//! request uses every core instead of one while other requests wait on their durable sync.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

/// Below this many items the threads cost more than they save.
const MIN_ITEMS_PER_THREAD: usize = 2;

fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// `items.iter().map(f).collect()`, in order, with the work split over up to one scoped thread
/// per core. The caller's thread takes the first share.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = cores().min(items.len() / MIN_ITEMS_PER_THREAD).max(1);
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let mut chunks = items.chunks(chunk);
        let first = chunks.next().unwrap_or_default();
        let handles: Vec<_> = chunks
            .map(|c| scope.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = first.iter().map(f).collect();
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                // A panic in `f` is a bug; carry it to the caller as the sequential code would.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order_for_every_length() {
        for n in 0..40usize {
            let items: Vec<usize> = (0..n).collect();
            let out = super::map(&items, |x| x * 3);
            assert_eq!(out, items.iter().map(|x| x * 3).collect::<Vec<_>>());
        }
    }
}
