//! PNG charts of benchmark comparisons, drawn with `plotters` (bitmap backend): grouped
//! bars ([`bars`]) and side-by-side line panels ([`line_panels`], e.g. scaling curves).
//!
//! Text needs a TrueType font: plotters' `ab_glyph` backend is pure Rust and takes the
//! font's bytes, which we read at run time from DejaVu Sans (Debian's `fonts-dejavu-core`,
//! installed by `.ci/run` when missing) and register once. Values span orders of
//! magnitude (Ingot vs Linux), so the value axis is logarithmic.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

const FONT_PATHS: &[&str] =
    &["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"];
/// Colours by series name, so a guest looks the same in every chart.
const COLOURS: &[(&str, RGBColor)] = &[
    ("floor", RGBColor(120, 120, 120)),
    ("Ingot", RGBColor(31, 119, 180)),
    ("Ingot kernel", RGBColor(31, 119, 180)),
    ("Linux", RGBColor(214, 39, 40)),
    ("Linux PVH", RGBColor(214, 39, 40)),
    ("Linux bzImage", RGBColor(255, 127, 14)),
];
const OTHER_COLOURS: [RGBColor; 6] = [
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
];

/// A colour per series: the fixed one for known names, else the next unused of
/// [`OTHER_COLOURS`] in series order.
fn colours(series: &[&str]) -> Vec<RGBColor> {
    let mut next_other = 0;
    series
        .iter()
        .map(|s| match COLOURS.iter().find(|(name, _)| s == name) {
            Some((_, c)) => *c,
            None => {
                next_other += 1;
                OTHER_COLOURS[(next_other - 1) % OTHER_COLOURS.len()]
            }
        })
        .collect()
}

/// One bar: `series` within `group` (e.g. guest "Ingot" on machine "q35").
pub struct Bar {
    pub group: String,
    pub series: String,
    pub value: f64,
}

fn font() -> Result<(), String> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let path = FONT_PATHS.iter().find(|p| std::path::Path::new(p).exists()).ok_or(
                "no DejaVu Sans font for chart text (install it: apt-get install fonts-dejavu-core)",
            )?;
            let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
            // plotters keeps registered fonts for the life of the process.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            register_font("sans-serif", FontStyle::Normal, bytes)
                .map_err(|_| format!("{path}: not a usable TrueType font"))
        })
        .clone()
}

/// Distinct values of `key` in first-seen order.
fn distinct<'a>(bars: &'a [Bar], key: impl Fn(&'a Bar) -> &'a str) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for bar in bars {
        if !out.contains(&key(bar)) {
            out.push(key(bar));
        }
    }
    out
}

/// Writes a grouped bar chart (log value axis) to `target/ingot/bench/<file>`.
/// `format` renders values for the axis and the bar labels.
pub fn bars(
    file: &str,
    title: &str,
    unit: &str,
    format: fn(f64) -> String,
    bars: &[Bar],
) -> Result<(), String> {
    font()?;
    let path = super::bench_dir().join(file);
    std::fs::create_dir_all(super::bench_dir()).map_err(|e| format!("{}: {e}", path.display()))?;
    let finite: Vec<f64> =
        bars.iter().map(|b| b.value).filter(|v| v.is_finite() && *v > 0.0).collect();
    if finite.is_empty() {
        return Err(format!("{file}: nothing to draw"));
    }
    let lo = 10f64.powf((super::stats::min(&finite).log10() - 0.5).floor());
    let hi = 10f64.powf(super::stats::max(&finite).log10().ceil() + 0.3);
    let groups = distinct(bars, |b| b.group.as_str());
    let series = distinct(bars, |b| b.series.as_str());
    let palette = colours(&series);
    let slots = series.len() + 1; // one empty slot between groups
    let draw = |e: DrawingAreaErrorKind<_>| format!("{}: drawing failed: {e:?}", path.display());
    let root = BitMapBackend::new(&path, (960, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(draw)?;
    let width = (groups.len() * slots) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..width, (lo..hi).log_scale())
        .map_err(draw)?;
    let group_label = |x: &f64| {
        let slot = (*x / slots as f64).floor() as usize;
        let centre = slot as f64 * slots as f64 + series.len() as f64 / 2.0;
        if (x - centre).abs() < 0.5 {
            groups.get(slot).map_or(String::new(), |g| g.to_string())
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups.len() * slots * 2 + 1)
        .x_label_formatter(&group_label)
        .y_label_formatter(&|v: &f64| format(*v))
        .y_desc(unit)
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(draw)?;
    for (s, name) in series.iter().enumerate() {
        let colour = palette[s];
        let rects: Vec<_> = bars
            .iter()
            .filter(|b| b.series == *name && b.value.is_finite() && b.value > 0.0)
            .filter_map(|b| {
                let g = groups.iter().position(|g| *g == b.group)?;
                let x = (g * slots + s) as f64 + 0.5;
                Some(Rectangle::new([(x + 0.05, lo), (x + 0.95, b.value)], colour.filled()))
            })
            .collect();
        chart
            .draw_series(rects)
            .map_err(draw)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled()));
        let labels: Vec<_> = bars
            .iter()
            .filter(|b| b.series == *name && b.value.is_finite() && b.value > 0.0)
            .filter_map(|b| {
                let g = groups.iter().position(|g| *g == b.group)?;
                let x = (g * slots + s) as f64 + 0.5;
                Some(Text::new(format(b.value), (x + 0.1, b.value * 1.25), ("sans-serif", 14)))
            })
            .collect();
        chart.draw_series(labels).map_err(draw)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()
        .map_err(draw)?;
    root.present().map_err(draw)?;
    Ok(())
}

/// One curve of a line panel.
pub struct Curve {
    pub name: String,
    /// (x, y) points in x order.
    pub points: Vec<(f64, f64)>,
}

/// One panel of [`line_panels`]: a title, axis names and its curves.
pub struct Panel {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub curves: Vec<Curve>,
}

/// Writes panels side by side (linear axes from 0, x ticks at the points' x values) to
/// `target/ingot/bench/<file>`. `format` renders y values for the axis and point labels.
pub fn line_panels(
    file: &str,
    title: &str,
    format: fn(f64) -> String,
    panels: &[Panel],
) -> Result<(), String> {
    font()?;
    let path = super::bench_dir().join(file);
    std::fs::create_dir_all(super::bench_dir()).map_err(|e| format!("{}: {e}", path.display()))?;
    let draw = |e: DrawingAreaErrorKind<_>| format!("{}: drawing failed: {e:?}", path.display());
    let width = 160 + 520 * panels.len().max(1) as u32;
    let root = BitMapBackend::new(&path, (width, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(draw)?;
    let root = root.titled(title, ("sans-serif", 24)).map_err(draw)?;
    for (panel, area) in panels.iter().zip(root.split_evenly((1, panels.len().max(1)))) {
        let finite = |f: fn(&(f64, f64)) -> f64| -> Vec<f64> {
            panel
                .curves
                .iter()
                .flat_map(|c| c.points.iter().map(f))
                .filter(|v| v.is_finite())
                .collect()
        };
        let (xs, ys) = (finite(|p| p.0), finite(|p| p.1));
        if xs.is_empty() || ys.is_empty() {
            return Err(format!("{file}: panel `{}` has nothing to draw", panel.title));
        }
        let x_hi = super::stats::max(&xs);
        let y_hi = super::stats::max(&ys) * 1.15;
        let mut ticks: Vec<f64> = xs.clone();
        ticks.sort_by(f64::total_cmp);
        ticks.dedup();
        let names: Vec<&str> = panel.curves.iter().map(|c| c.name.as_str()).collect();
        let palette = colours(&names);
        let mut chart = ChartBuilder::on(&area)
            .caption(&panel.title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..x_hi + 0.5, 0f64..y_hi)
            .map_err(draw)?;
        let tick_label = |x: &f64| {
            if ticks.iter().any(|t| (t - x).abs() < 1e-9) {
                format!("{x:.0}")
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_labels(((x_hi + 0.5) * 2.0) as usize + 1)
            .x_label_formatter(&tick_label)
            .y_label_formatter(&|v: &f64| format(*v))
            .x_desc(panel.x_desc.as_str())
            .y_desc(panel.y_desc.as_str())
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(draw)?;
        for (curve, colour) in panel.curves.iter().zip(palette) {
            let points: Vec<(f64, f64)> = curve
                .points
                .iter()
                .copied()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(3)))
                .map_err(draw)?
                .label(curve.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(3))
                });
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 5, colour.filled())))
                .map_err(draw)?;
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|p| Text::new(format(p.1), (p.0 + 0.05, p.1), ("sans-serif", 14))),
                )
                .map_err(draw)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 16))
            .draw()
            .map_err(draw)?;
    }
    root.present().map_err(draw)?;
    Ok(())
}

/// Seconds as "145 ms" or "3.9 s".
pub fn seconds(value: f64) -> String {
    if value < 1.0 { format!("{:.0} ms", value * 1e3) } else { format!("{value:.1} s") }
}

/// Whole MiB.
pub fn mib(value: f64) -> String {
    format!("{value:.0} MiB")
}

/// A compact count: 1.7e9 → "1.7G", 8806487 → "8.806M".
pub fn count(value: f64) -> String {
    short(value)
}

/// A compact number for bar labels: 0.0123 → "12.3m", 1.7e9 → "1.7G".
pub fn short(value: f64) -> String {
    let (scaled, suffix) = match value.abs() {
        v if v >= 1e9 => (value / 1e9, "G"),
        v if v >= 1e6 => (value / 1e6, "M"),
        v if v >= 1e3 => (value / 1e3, "k"),
        v if v >= 1.0 || v == 0.0 => (value, ""),
        _ => (value * 1e3, "m"),
    };
    format!("{scaled:.3}").trim_end_matches('0').trim_end_matches('.').to_string() + suffix
}

#[cfg(test)]
mod tests {
    use super::{COLOURS, OTHER_COLOURS, colours, seconds, short};

    #[test]
    fn series_colours_are_fixed_by_name_and_distinct_otherwise() {
        let c = colours(&["Ingot kernel", "a", "floor", "b"]);
        assert_eq!(c[0], COLOURS[2].1);
        assert_eq!(c[1], OTHER_COLOURS[0]);
        assert_eq!(c[2], COLOURS[0].1);
        assert_eq!(c[3], OTHER_COLOURS[1]);
    }

    #[test]
    fn short_numbers() {
        assert_eq!(seconds(0.1449), "145 ms");
        assert_eq!(seconds(3.93), "3.9 s");
        assert_eq!(short(1_691_989_420.0), "1.692G");
        assert_eq!(short(8_806_487.0), "8.806M");
        assert_eq!(short(2.5), "2.5");
        assert_eq!(short(0.0123), "12.3m");
        assert_eq!(short(0.0), "0");
    }
}
