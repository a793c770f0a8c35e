//! The `automlops` binary: everything happens in [`automlops::cli::run`].

// glibc's malloc grows the heap of a non-main thread (the compile runs on one, for its deep
// stack) one `mprotect` call at a time: about 10,000 calls for a 1,000-component notebook, a
// quarter of the compile's time. mimalloc, the allocator ruff ships with, has no such cost.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    automlops::cli::run()
}
