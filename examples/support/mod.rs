//! Helpers shared by the benchmark examples (`bench_static`, `bench_proxy`,
//! `bench_sockjs`): command-line flags, processes pinned to a CPU and ended
//! on drop, the load generators' output, nginx configurations, memory, and
//! the summary table. Each benchmark uses a part of them.

pub mod flags;
pub mod load;
pub mod nginx;
pub mod proc;
pub mod raw_ws;
pub mod report;
pub mod spawn;
