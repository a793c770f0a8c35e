//! The `automlops` binary: everything happens in [`automlops::cli::run`].

fn main() -> std::process::ExitCode {
    automlops::cli::run()
}
