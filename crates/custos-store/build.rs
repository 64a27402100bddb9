//! Rebuilds the crate when a migration is added or changed (`sqlx::migrate!` embeds them at
//! compile time and does not tell cargo on stable Rust).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
