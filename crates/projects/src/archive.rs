//! Zip import and export.
//!
//! Import reads an uploaded archive entirely in memory and trusts nothing in it: every
//! name is normalised like a typed path (no `..`, no absolute paths), symbolic links and
//! encrypted entries are refused, the entry count is capped before anything is read, and
//! each entry is decompressed through a byte limit, so an archive that claims small sizes
//! but inflates to gigabytes (a zip bomb) stops at the cap instead of filling memory.

use crate::paths;
use std::io::{Cursor, Read, Write};

/// Caps an import must stay within.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    pub max_entries: usize,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
}

/// What an archive holds, ready to store.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Unpacked {
    pub folders: Vec<String>,
    pub files: Vec<(String, String)>,
    /// Files left out because they are not UTF-8 text (images, binaries).
    pub skipped: Vec<String>,
}

/// Why an archive was refused; `entry` names the offending member when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRefusal {
    pub entry: Option<String>,
    pub message: String,
}

fn refuse(entry: Option<&str>, message: impl Into<String>) -> ImportRefusal {
    ImportRefusal {
        entry: entry.map(str::to_owned),
        message: message.into(),
    }
}

/// Unpacks `bytes` (a zip archive) within `limits`.
pub fn unpack(bytes: &[u8], limits: ImportLimits) -> Result<Unpacked, ImportRefusal> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        refuse(
            None,
            format!("The upload is not a readable zip archive ({e})."),
        )
    })?;
    if archive.len() > limits.max_entries {
        return Err(refuse(
            None,
            format!(
                "The archive has {} entries; at most {} are allowed.",
                archive.len(),
                limits.max_entries
            ),
        ));
    }
    let mut names = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| refuse(None, format!("Entry {i} cannot be read ({e}).")))?;
        let name = entry
            .name()
            .map_err(|e| refuse(None, format!("Entry {i} has an unreadable name ({e}).")))?
            .into_owned();
        names.push((name, entry.is_dir()));
    }
    let strip = common_root(names.iter().map(|(n, _)| n.as_str()));
    let mut unpacked = Unpacked::default();
    let mut total: u64 = 0;
    for (i, (raw_name, is_dir)) in names.iter().enumerate() {
        if raw_name.starts_with("__MACOSX/") {
            continue;
        }
        let relative = match &strip {
            Some(root) => &raw_name[root.len()..],
            None => raw_name.as_str(),
        };
        if relative.trim_matches('/').is_empty() {
            continue;
        }
        if raw_name.starts_with('/') || raw_name.starts_with('\\') {
            return Err(refuse(
                Some(raw_name),
                "Absolute paths are not allowed in an archive.",
            ));
        }
        let path = paths::normalize(relative).map_err(|m| refuse(Some(raw_name), m))?;
        if *is_dir {
            unpacked.folders.push(path);
            continue;
        }
        let mut file = archive
            .by_index(i)
            .map_err(|e| refuse(Some(raw_name), format!("This entry cannot be read ({e}).")))?;
        if file.is_symlink() {
            return Err(refuse(Some(raw_name), "Symbolic links are not allowed."));
        }
        if file.size() > limits.max_file_bytes {
            return Err(too_large(raw_name, limits.max_file_bytes));
        }
        // The declared size may lie; read at most one byte past the cap to find out.
        let mut content = Vec::new();
        (&mut file)
            .take(limits.max_file_bytes + 1)
            .read_to_end(&mut content)
            .map_err(|e| refuse(Some(raw_name), format!("This entry is corrupt ({e}).")))?;
        if content.len() as u64 > limits.max_file_bytes {
            return Err(too_large(raw_name, limits.max_file_bytes));
        }
        total += content.len() as u64;
        if total > limits.max_total_bytes {
            return Err(refuse(
                Some(raw_name),
                format!(
                    "The archive unpacks to more than {}, the project size limit.",
                    human_bytes(limits.max_total_bytes)
                ),
            ));
        }
        match String::from_utf8(content) {
            Ok(text) => unpacked.files.push((path, text)),
            Err(_) => unpacked.skipped.push(path),
        }
    }
    Ok(unpacked)
}

fn too_large(entry: &str, cap: u64) -> ImportRefusal {
    refuse(
        Some(entry),
        format!(
            "This file unpacks to more than {}, the file size limit.",
            human_bytes(cap)
        ),
    )
}

/// The single top-level folder every entry sits in (`repo-main/` in a GitHub download),
/// which import leaves out.
fn common_root<'a>(mut names: impl Iterator<Item = &'a str>) -> Option<String> {
    let first = names.next()?;
    let root = format!("{}/", first.split('/').next()?);
    if root == "/" || !first.contains('/') && !first.ends_with('/') {
        return None;
    }
    names
        .all(|n| n.starts_with(&root) || n.starts_with("__MACOSX/"))
        .then_some(root)
}

/// Packs files (path, content) and folders into a zip archive.
pub fn pack(folders: &[String], files: &[(String, String)]) -> Result<Vec<u8>, anyhow::Error> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for folder in folders {
        writer.add_directory(format!("{folder}/"), options)?;
    }
    for (path, content) in files {
        writer.start_file(path.as_str(), options)?;
        writer.write_all(content.as_bytes())?;
    }
    Ok(writer.finish()?.into_inner())
}

/// `1 MiB`, `512 KiB`, `300 B`.
pub fn human_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ImportLimits = ImportLimits {
        max_entries: 10,
        max_file_bytes: 1024,
        max_total_bytes: 4096,
    };

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in entries {
            if name.ends_with('/') {
                writer.add_directory(*name, options).unwrap();
            } else {
                writer.start_file(*name, options).unwrap();
                writer.write_all(body).unwrap();
            }
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn round_trip_keeps_paths_and_content() {
        let bytes = pack(
            &["src".into(), "empty".into()],
            &[("src/main.rs".into(), "fn main() {}\n".into())],
        )
        .unwrap();
        let unpacked = unpack(&bytes, LIMITS).unwrap();
        assert_eq!(unpacked.folders, ["src", "empty"]);
        assert_eq!(
            unpacked.files,
            [("src/main.rs".to_owned(), "fn main() {}\n".to_owned())]
        );
    }

    #[test]
    fn a_single_top_folder_is_left_out() {
        let bytes = zip_of(&[("repo-main/", b""), ("repo-main/a.py", b"x = 1\n")]);
        let unpacked = unpack(&bytes, LIMITS).unwrap();
        assert_eq!(unpacked.files[0].0, "a.py");
        assert!(unpacked.folders.is_empty());
    }

    #[test]
    fn traversal_and_absolute_names_are_refused() {
        for name in ["../evil.sh", "a/../../evil.sh", "/etc/cron.d/x", "C:/x.txt"] {
            let bytes = zip_of(&[(name, b"x"), ("ok.txt", b"y")]);
            let refusal = unpack(&bytes, LIMITS).unwrap_err();
            assert_eq!(refusal.entry.as_deref(), Some(name), "{name}");
        }
    }

    #[test]
    fn a_zip_bomb_stops_at_the_cap() {
        let zeros = vec![0u8; 64 * 1024];
        let bytes = zip_of(&[("bomb.txt", &zeros)]);
        assert!(bytes.len() < 1024, "the test archive should be tiny");
        let refusal = unpack(&bytes, LIMITS).unwrap_err();
        assert_eq!(refusal.entry.as_deref(), Some("bomb.txt"));
        assert!(refusal.message.contains("file size limit"));
    }

    #[test]
    fn the_total_and_the_count_are_capped() {
        let kib = vec![b'a'; 1000];
        let many: Vec<(String, Vec<u8>)> =
            (0..5).map(|i| (format!("f{i}.txt"), kib.clone())).collect();
        let refs: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        let refusal = unpack(&zip_of(&refs), LIMITS).unwrap_err();
        assert!(
            refusal.message.contains("project size limit"),
            "{refusal:?}"
        );

        let names: Vec<String> = (0..11).map(|i| format!("f{i}.txt")).collect();
        let refs: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        let refusal = unpack(&zip_of(&refs), LIMITS).unwrap_err();
        assert!(refusal.message.contains("at most 10"), "{refusal:?}");
    }

    #[test]
    fn binary_files_are_skipped_and_reported() {
        let bytes = zip_of(&[("logo.png", &[0x89, 0x50, 0xff, 0xfe]), ("a.txt", b"hi")]);
        let unpacked = unpack(&bytes, LIMITS).unwrap();
        assert_eq!(unpacked.skipped, ["logo.png"]);
        assert_eq!(unpacked.files.len(), 1);
    }

    #[test]
    fn garbage_is_not_an_archive() {
        assert!(
            unpack(b"not a zip", LIMITS)
                .unwrap_err()
                .message
                .contains("not a readable zip")
        );
    }
}
