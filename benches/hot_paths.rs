//! Cycle-count benchmarks of the hot paths: integrity codes, command frames, chain verify and
//! full-stack reads through a replay bus. No criterion; see `support` for the modes and the
//! output format, `cases` for the registry, `scripts/callgrind.sh` for instruction counts.
//!
//! ```text
//! cargo bench --bench hot_paths              # full run, one line per case
//! cargo bench --bench hot_paths -- pec15     # only cases whose name contains "pec15"
//! cargo test --all-targets                   # quick mode (a few iterations per case)
//! scripts/callgrind.sh                       # instructions per iteration under callgrind
//! ```

mod cases;
mod support;

#[global_allocator]
static ALLOCATOR: support::alloc::Counting = support::alloc::Counting;

fn main() {
    let mut r = support::Runner::from_args();
    r.header();
    for register in cases::ALL {
        register(&mut r);
    }
    r.finish();
}
