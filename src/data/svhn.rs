//! SVHN's cropped digits as distributed (`train_32x32.mat`, `test_32x32.mat`): MATLAB v5 files
//! holding `X`, uint8 [32, 32, 3, N] in column-major order (row fastest), and `y`, N labels
//! 1..10 where 10 is the digit 0. Without a test file beside the training one, every tenth image
//! is held out.

use std::path::Path;

use crate::data::{Dataset, Images, LabelColumn, Split};
use crate::error::{Error, Result};

/// `train` to train on and `test` (or every tenth training image) to evaluate on.
pub fn load(train: &Path, test: Option<&Path>) -> Result<Split> {
    let all = read(train)?;
    match test {
        Some(test) => Ok(Split { train: all, eval: read(test)? }),
        None => {
            let (kept, held): (Vec<usize>, Vec<usize>) = (0..all.len()).partition(|i| i % 10 != 9);
            if held.is_empty() {
                return Err(Error::new(format!(
                    "{}: {} images leave none to hold out; add test_32x32.mat beside it",
                    train.display(),
                    all.len()
                )));
            }
            let name = train.display().to_string();
            Ok(Split {
                train: all.pick(&kept, &format!("{name} (9 in 10)")),
                eval: all.pick(&held, &format!("{name} (every tenth)")),
            })
        }
    }
}

/// One `.mat` file as a dataset with the label column "digit".
pub fn read(path: &Path) -> Result<Dataset> {
    let name = path.display().to_string();
    let bad = |what: String| Error::new(format!("{name}: {what}"));
    let file = std::fs::File::open(path).map_err(|e| bad(format!("cannot read ({e})")))?;
    let mat = matfile::MatFile::parse(std::io::BufReader::new(file)).map_err(|e| bad(format!("not a readable MATLAB v5 file ({e}); SVHN's files are train_32x32.mat and test_32x32.mat")))?;
    let missing = |what: &str| {
        bad(format!("no array {what}: not SVHN's cropped-digit format, or a truncated file"))
    };
    let x = mat.find_by_name("X").ok_or_else(|| missing("`X` (the images)"))?;
    let y = mat.find_by_name("y").ok_or_else(|| missing("`y` (the labels)"))?;
    let size = x.size();
    let &[32, 32, 3, count] = size.as_slice() else {
        return Err(bad(format!("`X` is {size:?}, expected [32, 32, 3, N]")));
    };
    let matfile::NumericData::UInt8 { real: column_major, .. } = x.data() else {
        return Err(bad("`X` is not uint8".into()));
    };
    if column_major.len() != 32 * 32 * 3 * count {
        return Err(bad(format!("`X` holds {} values for {count} images", column_major.len())));
    }
    let labels = label_values(y.data()).ok_or_else(|| bad("`y` is not numeric".into()))?;
    if labels.len() != count {
        return Err(bad(format!("{count} images but {} labels", labels.len())));
    }
    let digits = labels
        .iter()
        .map(|&v| match v {
            v if (1.0..=10.0).contains(&v) && v.fract() == 0.0 => Ok(v as u32 % 10),
            v => Err(bad(format!("label {v} outside 1..10"))),
        })
        .collect::<Result<Vec<u32>>>()?;
    // Column-major [row, column, channel, image] -> planar [image, channel, row, column].
    let mut pixels = vec![0u8; column_major.len()];
    for n in 0..count {
        for c in 0..3 {
            for row in 0..32 {
                for col in 0..32 {
                    pixels[((n * 3 + c) * 32 + row) * 32 + col] =
                        column_major[row + 32 * (col + 32 * (c + 3 * n))];
                }
            }
        }
    }
    let images = Images { count, channels: 3, height: 32, width: 32, pixels };
    Dataset::new(&name, images, vec![LabelColumn::numbered("digit", 10, digits)])
}

fn label_values(data: &matfile::NumericData) -> Option<Vec<f64>> {
    use matfile::NumericData as D;
    Some(match data {
        D::Double { real, .. } => real.clone(),
        D::Single { real, .. } => real.iter().map(|&v| f64::from(v)).collect(),
        D::UInt8 { real, .. } => real.iter().map(|&v| f64::from(v)).collect(),
        D::Int8 { real, .. } => real.iter().map(|&v| f64::from(v)).collect(),
        D::UInt16 { real, .. } => real.iter().map(|&v| f64::from(v)).collect(),
        D::Int16 { real, .. } => real.iter().map(|&v| f64::from(v)).collect(),
        D::UInt32 { real, .. } => real.iter().map(|&v| f64::from(v)).collect(),
        D::Int32 { real, .. } => real.iter().map(|&v| f64::from(v)).collect(),
        D::UInt64 { real, .. } => real.iter().map(|&v| v as f64).collect(),
        D::Int64 { real, .. } => real.iter().map(|&v| v as f64).collect(),
    })
}
