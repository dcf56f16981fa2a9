//! The small statistics of a study: the growth exponent of a cost against sentence length
//! (least squares on log-log axes, with its standard error) and the spread of repeated scores.

use serde::{Deserialize, Serialize};

/// `y ≈ c · x^exponent`, fitted by least squares on `ln x`, `ln y`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PowerFit {
    /// The growth exponent (slope on log-log axes).
    pub exponent: f64,
    /// Standard error of the exponent (0 when the points lie on a line or there are two).
    pub std_error: f64,
    /// Points used (positive, finite x and y).
    pub points: usize,
}

impl PowerFit {
    /// Fits the points with positive, finite coordinates; `None` with fewer than two of them
    /// or when every x is the same.
    pub fn fit(points: &[(f64, f64)]) -> Option<Self> {
        let logs: Vec<(f64, f64)> = points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && *x > 0.0 && *y > 0.0)
            .map(|(x, y)| (x.ln(), y.ln()))
            .collect();
        let n = logs.len() as f64;
        if logs.len() < 2 {
            return None;
        }
        let mx = logs.iter().map(|p| p.0).sum::<f64>() / n;
        let my = logs.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = logs.iter().map(|p| (p.0 - mx).powi(2)).sum();
        if sxx <= 0.0 {
            return None;
        }
        let sxy: f64 = logs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let exponent = sxy / sxx;
        let intercept = my - exponent * mx;
        let residual: f64 = logs
            .iter()
            .map(|p| (p.1 - intercept - exponent * p.0).powi(2))
            .sum();
        let std_error = if logs.len() > 2 {
            (residual / (n - 2.0) / sxx).sqrt()
        } else {
            0.0
        };
        Some(Self {
            exponent,
            std_error,
            points: logs.len(),
        })
    }
}

/// Repeated measurements of one score (e.g. one per seed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Sample standard deviation (0 for one value).
    pub sd: f64,
    /// Values summarised.
    pub n: usize,
}

impl Spread {
    /// The spread of the finite values; `None` when there is none.
    pub fn of(values: &[f64]) -> Option<Self> {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = if v.len() > 1 {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Some(Self {
            mean,
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            sd,
            n: v.len(),
        })
    }

    /// `max - min`.
    pub fn range(&self) -> f64 {
        self.max - self.min
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exponent_of_a_power_law_is_recovered() {
        for k in [0.5, 1.0, 2.0] {
            let pts: Vec<(f64, f64)> = [8.0, 16.0, 64.0, 256.0]
                .iter()
                .map(|&x: &f64| (x, 3.0 * x.powf(k)))
                .collect();
            let fit = PowerFit::fit(&pts).unwrap();
            assert!((fit.exponent - k).abs() < 1e-9, "{k}: {fit:?}");
            assert!(fit.std_error < 1e-6);
            assert_eq!(fit.points, 4);
        }
    }

    #[test]
    fn noise_gives_a_standard_error_and_bad_points_are_skipped() {
        let pts = [
            (8.0, 8.0 * 1.1),
            (16.0, 16.0 * 0.9),
            (32.0, 32.0 * 1.1),
            (64.0, 64.0 * 0.9),
            (0.0, 5.0),
            (10.0, f64::NAN),
        ];
        let fit = PowerFit::fit(&pts).unwrap();
        assert_eq!(fit.points, 4);
        assert!((fit.exponent - 1.0).abs() < 0.1, "{fit:?}");
        assert!(fit.std_error > 0.0);
        assert!(PowerFit::fit(&[(8.0, 1.0)]).is_none());
        assert!(PowerFit::fit(&[(8.0, 1.0), (8.0, 2.0)]).is_none());
    }

    #[test]
    fn spread_of_seeds() {
        let s = Spread::of(&[10.0, 14.0, f64::NAN]).unwrap();
        assert_eq!((s.mean, s.min, s.max, s.n), (12.0, 10.0, 14.0, 2));
        assert!((s.sd - 8f64.sqrt()).abs() < 1e-12);
        assert_eq!(s.range(), 4.0);
        assert!(Spread::of(&[]).is_none());
        assert_eq!(Spread::of(&[3.0]).unwrap().sd, 0.0);
    }
}
