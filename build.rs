//! Names the commit the binary is built from (`INFOGAN_COMMIT`), so that every run records the
//! code that trained it: the short hash, `+dirty` when the sources differ from it, or `unknown`
//! outside a git checkout.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    // Rerun when the sources change (the crate is rebuilt then anyway) or a commit is made; not on
    // every `git add`, which would rebuild the crate for nothing.
    for path in ["src", "shaders", "Cargo.toml", "Cargo.lock", "build.rs"] {
        println!("cargo:rerun-if-changed={path}");
    }
    if let Some(git_dir) = git(&["rev-parse", "--git-dir"]) {
        for name in ["HEAD", "refs/heads", "packed-refs"] {
            let path = Path::new(&git_dir).join(name);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    let commit = match git(&["rev-parse", "--short=7", "HEAD"]) {
        Some(hash) => {
            let sources = ["src", "shaders", "Cargo.toml", "Cargo.lock", "build.rs"];
            let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
            status.extend(sources);
            let dirty = git(&status).is_none_or(|s| !s.is_empty());
            format!("{hash}{}", if dirty { "+dirty" } else { "" })
        }
        None => "unknown".to_string(),
    };
    println!("cargo:rustc-env=INFOGAN_COMMIT={commit}");
}
