//! Work split across the machine's cores, for the phases whose items do not depend on each
//! other (parsing cells, emitting component files, writing files). Results come back in the
//! items' order, so output never depends on scheduling.

use std::num::NonZeroUsize;

/// Below this many items a phase runs on the calling thread: starting threads costs more than
/// it saves on a small notebook.
const MIN_ITEMS: usize = 64;

/// Each worker parses and analyses recursively, as the main compiler thread does (see the
/// CLI): deep expressions need a large stack, which is reserved, not used.
const STACK: usize = 1 << 30;

/// `f` applied to every item, in order, on up to as many threads as the machine has cores.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < MIN_ITEMS {
        return items.iter().map(&f).collect();
    }
    // Asked only here: it reads the process's cgroup files.
    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    if threads < 2 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let mut chunks = items.chunks(chunk);
        // The calling thread takes the first chunk itself.
        let first = chunks.next().unwrap_or_default();
        let workers: Vec<_> = chunks
            .map(|part| {
                let worker = std::thread::Builder::new()
                    .stack_size(STACK)
                    .spawn_scoped(scope, move || part.iter().map(f).collect::<Vec<R>>());
                (part, worker)
            })
            .collect();
        let mut results: Vec<R> = first.iter().map(f).collect();
        for (part, worker) in workers {
            match worker {
                Ok(handle) => match handle.join() {
                    Ok(done) => results.extend(done),
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                // No thread to be had: the work is done here.
                Err(_) => results.extend(part.iter().map(f)),
            }
        }
        results
    })
}

/// `a()` and `b()`, `a` on a thread of its own when `weight` (the number of items the two
/// work on) makes a thread worth starting; `b` runs on the calling thread.
pub(crate) fn join<RA: Send, RB>(
    weight: usize,
    a: impl Fn() -> RA + Sync,
    b: impl FnOnce() -> RB,
) -> (RA, RB) {
    if weight < MIN_ITEMS {
        return (a(), b());
    }
    let a = &a;
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn_scoped(scope, a);
        let b = b();
        let a = match worker {
            Ok(handle) => match handle.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            // No thread to be had: the work is done here.
            Err(_) => a(),
        };
        (a, b)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_items_order() {
        let items: Vec<usize> = (0..1000).collect();
        assert_eq!(
            super::map(&items, |i| i * 2),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
        assert_eq!(super::map(&items[..3], |i| i + 1), vec![1, 2, 3]);
    }

    #[test]
    fn joined_work_returns_both_results_in_place() {
        for weight in [1, 1000] {
            assert_eq!(super::join(weight, || "a", || "b"), ("a", "b"));
        }
    }
}
