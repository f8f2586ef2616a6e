//! Small inline SVG charts of the last hour, a bar per minute, drawn on the
//! server: no script and no chart library, so they show as soon as the page
//! does and need nothing the Content-Security-Policy forbids (colours come
//! from classes in the stylesheet, never from inline styles).
//!
//! Each chart is an `img` to assistive technology, named by its `title` and
//! described by its `desc` (which states the figures), and has its figures
//! beside it in text: the chart never is the only way to read them.

use maud::{Markup, html};

/// The drawing's size in user units (it scales to the width it is given).
const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 96.0;
/// Room under the bars for the time labels.
const AXIS: f64 = 14.0;
/// Room above the bars for the scale's label.
const HEAD: f64 = 12.0;

/// One bar: its stacked parts (each `(value, CSS class)`, drawn bottom up),
/// or `None` where nothing was measured (drawn as a gap, not as zero).
pub(crate) type Bar = Option<Vec<(f64, &'static str)>>;

/// A chart: `id` makes its title and description referable, `title` names
/// it, `desc` says in words what it shows, `bars` are oldest first, one per
/// minute, `unit` follows the tallest bar's figure, and `summary` is the
/// text shown beside the chart.
pub(crate) fn bars(id: &str, title: &str, desc: &str, bars: &[Bar], unit: &str, summary: Markup) -> Markup {
    let top = bars.iter().flatten().map(|parts| parts.iter().map(|(v, _)| v).sum::<f64>()).fold(0.0, f64::max);
    let scale = if top > 0.0 { (HEIGHT - AXIS - HEAD) / top } else { 0.0 };
    let slot = WIDTH / bars.len().max(1) as f64;
    let base = HEIGHT - AXIS;
    let (title_id, desc_id) = (format!("{id}-title"), format!("{id}-desc"));
    // Each part sits on the one below it: (x, y, height, class).
    let mut rects = Vec::new();
    for (i, parts) in bars.iter().enumerate() {
        let mut y = base;
        for (value, class) in parts.iter().flatten() {
            let h = value * scale;
            if h > 0.0 {
                y -= h;
                rects.push((i as f64 * slot + slot * 0.1, y, h, *class));
            }
        }
    }
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-labelledby=(title_id) aria-describedby=(desc_id) {
                title id=(title_id) { (title) }
                desc id=(desc_id) { (desc) }
                line.axis x1="0" y1=(num(base)) x2=(num(WIDTH)) y2=(num(base)) {}
                @for (x, y, h, class) in &rects {
                    rect class=(class) x=(num(*x)) y=(num(*y)) width=(num(slot * 0.8)) height=(num(*h)) {}
                }
                text.tick x="0" y=(num(HEIGHT - 2.0)) { "60 min ago" }
                text.tick x=(num(WIDTH)) y=(num(HEIGHT - 2.0)) text-anchor="end" { "now" }
                text.tick x="0" y="9" { "tallest: " (num(top)) (unit) }
            }
            figcaption { strong { (title) } " " (summary) }
        }
    }
}

/// A coordinate or figure with at most two decimals (and none when whole).
fn num(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_tallest_and_gaps_stay_gaps() {
        let svg = bars(
            "c",
            "Results",
            "2 then 4",
            &[Some(vec![(2.0, "ok")]), None, Some(vec![(3.0, "ok"), (1.0, "failed")])],
            " jobs",
            html! { "6 in all" },
        )
        .into_string();
        assert!(svg.contains(r#"role="img" aria-labelledby="c-title" aria-describedby="c-desc""#), "{svg}");
        assert!(svg.contains(r#"<title id="c-title">Results</title><desc id="c-desc">2 then 4</desc>"#), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 3, "two parts, one bar, and nothing for the gap: {svg}");
        // The tallest bar (4) fills the drawing's height between head and axis (96 - 14 - 12 = 70).
        assert!(svg.contains(r#"class="failed" x="252" y="12" width="96" height="17.5""#), "{svg}");
        assert!(svg.contains("tallest: 4 jobs"), "{svg}");
        assert!(svg.contains("<figcaption><strong>Results</strong> 6 in all</figcaption>"), "{svg}");
    }

    #[test]
    fn an_empty_hour_draws_no_bars() {
        let svg = bars("c", "T", "nothing", &[None, Some(vec![(0.0, "ok")])], "", html! {}).into_string();
        assert!(!svg.contains("<rect"), "{svg}");
    }
}
