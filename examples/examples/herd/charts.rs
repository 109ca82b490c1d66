//! SVG charts of the simulations (plotters, SVG backend only).

use core::error::Error;
use std::path::Path;

use plotters::prelude::*;

use crate::contention::{Row, STRATEGIES};
use crate::outage::Report;

type Res = Result<(), Box<dyn Error>>;

const SIZE: (u32, u32) = (900, 520);

fn color(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 6] = [
        RGBColor(0xd6, 0x27, 0x28),
        RGBColor(0x1f, 0x77, 0xb4),
        RGBColor(0x2c, 0xa0, 0x2c),
        RGBColor(0x94, 0x67, 0xbd),
        RGBColor(0xff, 0x7f, 0x0e),
        RGBColor(0x7f, 0x7f, 0x7f),
    ];
    COLORS[i % COLORS.len()]
}

/// Average calls and average time against the number of clients, one line
/// per strategy.
pub(crate) fn contention(rows: &[Row], dir: &Path) -> Res {
    type Metric = fn(&Row) -> f64;
    let metrics: [(&str, &str, &str, Metric); 2] = [
        (
            "contention-calls.svg",
            "Write calls until every client succeeded",
            "average calls",
            |r| r.avg_calls,
        ),
        (
            "contention-time.svg",
            "Time until every client succeeded",
            "average time (ms)",
            |r| r.avg_time_ms,
        ),
    ];
    for (file, title, y_desc, metric) in metrics {
        let path = dir.join(file);
        let root = SVGBackend::new(&path, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let ymax = rows.iter().map(metric).fold(0.0, f64::max) * 1.08;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(10u32..50u32, 0f64..ymax.max(1.0))?;
        chart
            .configure_mesh()
            .x_desc("clients")
            .y_desc(y_desc)
            .x_labels(5)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        for (i, name) in STRATEGIES.iter().enumerate() {
            let c = color(i);
            let points = rows
                .iter()
                .filter(|r| r.strategy == *name)
                .map(|r| (r.clients, metric(r)));
            chart
                .draw_series(LineSeries::new(points, c.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    Ok(())
}

/// Two panels over time, one line per report: attempts sent per second
/// and responses received per second, with the server's capacity;
/// the outage window shaded in both.
pub(crate) fn load(
    path: &Path,
    title: &str,
    lines: &[(&str, &Report)],
    capacity: u32,
    outage: (f64, f64),
) -> Res {
    let root = SVGBackend::new(path, (SIZE.0, SIZE.1 * 3 / 2)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let (top, bottom) = root.split_vertically(SIZE.1 * 3 / 4);
    let sent: Vec<Vec<u64>> = lines.iter().map(|(_, r)| r.sent_per_second()).collect();
    let ok: Vec<Vec<u64>> = lines.iter().map(|(_, r)| r.goodput_per_second()).collect();
    let panels = [
        (&top, "attempts sent per second", &sent, true),
        (&bottom, "responses received per second", &ok, false),
    ];
    for (area, y_desc, series, with_legend) in panels {
        let secs = series.iter().map(Vec::len).max().unwrap_or(1) as f64;
        let peak = series.iter().flatten().copied().max().unwrap_or(0) as f64;
        let ymax = peak.max(f64::from(capacity)) * 1.08;
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..secs, 0f64..ymax)?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc(y_desc)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .light_line_style(WHITE)
            .draw()?;
        chart
            .draw_series(core::iter::once(Rectangle::new(
                [(outage.0, 0.0), (outage.1, ymax)],
                RGBColor(0xee, 0xee, 0xee).filled(),
            )))?
            .label("server down")
            .legend(|(x, y)| {
                Rectangle::new(
                    [(x, y - 5), (x + 20, y + 5)],
                    RGBColor(0xdd, 0xdd, 0xdd).filled(),
                )
            });
        let cap = f64::from(capacity);
        chart
            .draw_series(LineSeries::new(
                [(0.0, cap), (secs, cap)],
                BLACK.stroke_width(1),
            ))?
            .label("server capacity")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1)));
        for (i, ((name, _), per_sec)) in lines.iter().zip(series.iter()).enumerate() {
            let c = color(i);
            let points = per_sec
                .iter()
                .enumerate()
                .map(|(s, &n)| (s as f64 + 0.5, n as f64));
            chart
                .draw_series(LineSeries::new(points, c.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
        }
        if with_legend {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }
    }
    root.present()?;
    Ok(())
}
