//! Statistics and the summary table every benchmark ends with, in
//! Markdown so it can be pasted as it is.

use std::time::Duration;

/// The median of `values` (0 when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The `p`-th percentile (0–100, nearest rank) of `durations`.
pub fn percentile(durations: &[Duration], p: usize) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// `a / b`, printed as `0.93×`, or `—` when either side is missing.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "—".to_string(),
    }
}

/// One line of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub what: String,
    /// devserve's figure.
    pub ours: String,
    /// The anchor's figure (or the comparison's).
    pub anchor: String,
    /// devserve relative to the anchor.
    pub ratio: String,
    /// The target from the performance budget.
    pub goal: String,
}

/// Prints `rows` as a Markdown table under `title`.
pub fn print_table(title: &str, rows: &[Row]) {
    println!("\n## {title} (indicative unless run on an idle machine)\n");
    println!("| what | devserve | anchor | ratio | goal |");
    println!("|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            row.what, row.ours, row.anchor, row.ratio, row.goal
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_percentile_pick_the_middle_and_the_rank() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 50), Duration::from_millis(50));
        assert_eq!(percentile(&ms, 99), Duration::from_millis(99));
        assert_eq!(ratio(Some(1.0), None), "—");
    }
}
