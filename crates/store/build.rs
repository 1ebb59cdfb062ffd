//! `sqlx::migrate!` embeds the migration files at compile time; tell cargo to rebuild this
//! crate when one is added or edited, or a warm build would ship the old set.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
