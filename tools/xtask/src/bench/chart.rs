//! PNG charts of benchmark comparisons, drawn with `plotters` (bitmap backend): grouped
//! bars ([`bars`]) and side-by-side line panels ([`line_panels`], e.g. scaling curves).
//!
//! Text needs a TrueType font: plotters' `ab_glyph` backend is pure Rust and takes the
//! font's bytes, which we read at run time from DejaVu Sans (Debian's `fonts-dejavu-core`,
//! installed by `.ci/run` when missing) and register once. Bar charts take a [`Scale`]:
//! logarithmic where values span orders of magnitude (boot time and instructions, Ingot
//! against Linux), linear for throughput and rates, where a log axis makes 406 and 732
//! look alike. A chart is as wide as its group labels need ([`bar_chart_width`]), so
//! labels never run into each other.

use std::sync::OnceLock;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
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

/// The value axis of a bar chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// From 0, for throughput and rates: bar heights compare directly.
    Linear,
    /// Powers of ten, for values spanning orders of magnitude.
    Log,
}

/// Pixel width of one character of the 16 px axis-label font (DejaVu Sans averages
/// about 0.6 em; digits and lower case stay below it).
const LABEL_CHAR_PX: u32 = 10;
/// Room on the left for the value axis's labels and title, and the margins.
const AXIS_PX: u32 = 90 + 2 * 16;
/// Pixels per bar slot at least, so bars stay visible.
const MIN_SLOT_PX: u32 = 28;

/// The width of a bar chart with these group labels and `series` bars per group: each
/// group (its bars plus one empty slot) is wider than its label plus a gap, and the
/// chart is at least 960 px.
pub fn bar_chart_width(groups: &[&str], series: usize) -> u32 {
    let longest = groups.iter().map(|g| g.chars().count() as u32).max().unwrap_or(0);
    let group_px =
        (longest * LABEL_CHAR_PX + 2 * LABEL_CHAR_PX).max(MIN_SLOT_PX * (series as u32 + 1));
    (AXIS_PX + group_px * groups.len() as u32).max(960)
}

/// Writes a grouped bar chart to `target/ingot/bench/<file>`. `format` renders values
/// for the axis and the bar labels.
pub fn bars(
    file: &str,
    title: &str,
    unit: &str,
    scale: Scale,
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
    let groups = distinct(bars, |b| b.group.as_str());
    let series = distinct(bars, |b| b.series.as_str());
    let width = bar_chart_width(&groups, series.len());
    let root = BitMapBackend::new(&path, (width, 560)).into_drawing_area();
    let draw = |e: DrawingAreaErrorKind<_>| format!("{}: drawing failed: {e:?}", path.display());
    root.fill(&WHITE).map_err(draw)?;
    let layout = Layout { title, unit, format, bars, groups: &groups, series: &series };
    match scale {
        Scale::Log => {
            let lo = 10f64.powf((super::stats::min(&finite).log10() - 0.5).floor());
            let hi = 10f64.powf(super::stats::max(&finite).log10().ceil() + 0.3);
            draw_bars(&root, (lo..hi).log_scale(), lo, |v| v * 1.25, &layout).map_err(draw)?;
        }
        Scale::Linear => {
            let hi = super::stats::max(&finite) * 1.15;
            draw_bars(&root, 0f64..hi, 0.0, |v| v + hi * 0.035, &layout).map_err(draw)?;
        }
    }
    root.present().map_err(draw)?;
    Ok(())
}

/// What [`draw_bars`] draws.
struct Layout<'a> {
    title: &'a str,
    unit: &'a str,
    format: fn(f64) -> String,
    bars: &'a [Bar],
    groups: &'a [&'a str],
    series: &'a [&'a str],
}

/// Draws the bars on `root` with value axis `y`, bars rising from `floor`, each bar's
/// label at `label_at(value)`.
fn draw_bars<'b, Y>(
    root: &DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>,
    y: Y,
    floor: f64,
    label_at: impl Fn(f64) -> f64,
    layout: &Layout<'_>,
) -> Result<(), DrawingAreaErrorKind<<BitMapBackend<'b> as DrawingBackend>::ErrorType>>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let Layout { title, unit, format, bars, groups, series } = layout;
    let palette = colours(series);
    let slots = series.len() + 1; // one empty slot between groups
    let width = (groups.len() * slots) as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(*title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..width, y)?;
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
        .y_desc(*unit)
        .label_style(("sans-serif", 16))
        .draw()?;
    for (s, name) in series.iter().enumerate() {
        let colour = palette[s];
        let drawn = || {
            bars.iter().filter(move |b| b.series == *name && b.value.is_finite() && b.value > 0.0)
        };
        let x_of = |b: &Bar| {
            groups.iter().position(|g| *g == b.group).map(|g| (g * slots + s) as f64 + 0.5)
        };
        let rects: Vec<_> = drawn()
            .filter_map(|b| {
                let x = x_of(b)?;
                Some(Rectangle::new([(x + 0.05, floor), (x + 0.95, b.value)], colour.filled()))
            })
            .collect();
        chart
            .draw_series(rects)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled()));
        let labels: Vec<_> = drawn()
            .filter_map(|b| {
                let x = x_of(b)?;
                Some(Text::new(format(b.value), (x + 0.1, label_at(b.value)), ("sans-serif", 14)))
            })
            .collect();
        chart.draw_series(labels)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()?;
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
        // Text hangs below its anchor: the highest point at an x gets its label above
        // it, the others below, so labels of curves at similar values stay apart.
        let label_y = |p: (f64, f64)| {
            let highest = panel
                .curves
                .iter()
                .flat_map(|c| c.points.iter())
                .filter(|q| q.0 == p.0)
                .all(|q| q.1 <= p.1);
            if highest { p.1 + y_hi * 0.06 } else { p.1 - y_hi * 0.015 }
        };
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
                    points.iter().map(|p| {
                        Text::new(format(p.1), (p.0 + 0.08, label_y(*p)), ("sans-serif", 14))
                    }),
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

/// A compact count: 1.7e9 → "1.69G", 8806487 → "8.81M", 111056 → "111k".
pub fn count(value: f64) -> String {
    short(value)
}

/// A compact number with three significant digits, as people read them: 0.0123 →
/// "12.3m", 1.7e9 → "1.69G", 111056 → "111k", 2.5 → "2.5".
pub fn short(value: f64) -> String {
    let (scaled, suffix) = match value.abs() {
        v if v >= 1e9 => (value / 1e9, "G"),
        v if v >= 1e6 => (value / 1e6, "M"),
        v if v >= 1e3 => (value / 1e3, "k"),
        v if v >= 1.0 || v == 0.0 => (value, ""),
        _ => (value * 1e3, "m"),
    };
    let decimals = match scaled.abs() {
        v if v >= 100.0 || v == 0.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    let text = format!("{scaled:.decimals$}");
    let text =
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    text.to_string() + suffix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_labels_fit_their_groups() {
        let groups = ["virtio-blk write", "virtio-blk read", "nvme write", "ide read"];
        let width = bar_chart_width(&groups, 2);
        let group_px = (width - AXIS_PX) / groups.len() as u32;
        let label_px = "virtio-blk write".len() as u32 * LABEL_CHAR_PX;
        assert!(group_px > label_px + LABEL_CHAR_PX, "{group_px} px for a {label_px} px label");
        assert_eq!(bar_chart_width(&["pc", "q35"], 3), 960, "small charts keep the usual width");
    }

    #[test]
    fn charts_render_on_both_scales() {
        if font().is_err() {
            return; // No DejaVu font on this host: nothing can be drawn (bench says so).
        }
        let bar = |group: &str, series: &str, value| Bar {
            group: group.into(),
            series: series.into(),
            value,
        };
        let data =
            [bar("virtio-blk write", "Ingot", 406.0), bar("virtio-blk write", "Linux", 732.0)];
        for (file, scale) in [("test-linear.png", Scale::Linear), ("test-log.png", Scale::Log)] {
            bars(file, "test", "MB/s", scale, short, &data).unwrap();
            let png = std::fs::read(super::super::bench_dir().join(file)).unwrap();
            assert_eq!(&png[1..4], b"PNG");
            std::fs::remove_file(super::super::bench_dir().join(file)).unwrap();
        }
        assert!(bars("empty.png", "t", "u", Scale::Linear, short, &[]).is_err());
    }

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
        assert_eq!(short(1_691_989_420.0), "1.69G");
        assert_eq!(short(8_806_487.0), "8.81M");
        assert_eq!(short(111_056.0), "111k");
        assert_eq!(short(5_392.0), "5.39k");
        assert_eq!(short(65_907_000.0), "65.9M");
        assert_eq!(short(2.5), "2.5");
        assert_eq!(short(0.0123), "12.3m");
        assert_eq!(short(0.0), "0");
    }
}
