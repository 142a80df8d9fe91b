//! The `infogan` binary: parses the command line and runs it (`cli`).

mod cli;

use clap::Parser;

use infogan::train::run::Outcome;

fn main() {
    restore_default_sigpipe();
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(Outcome::Finished) => {}
        Ok(Outcome::Interrupted) => std::process::exit(130),
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
}

/// `infogan bench matmul | head` should end quietly like any other command-line tool. Rust
/// ignores SIGPIPE, so a closed pipe made the next `println!` panic with a backtrace.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
