//! The EFI system partition: a FAT volume made with the `fatfs` crate.

use std::io::{Cursor, Write};

use fatfs::{FileSystem, FormatVolumeOptions, FsOptions};

/// Formats a FAT volume of `bytes` and fills it with `files` (paths with `/`,
/// directories created as needed).
pub fn build(bytes: usize, files: &[(&str, &[u8])]) -> Result<Vec<u8>, String> {
    let mut volume = Cursor::new(vec![0u8; bytes]);
    fatfs::format_volume(&mut volume, FormatVolumeOptions::new().volume_label(*b"INGOT-ESP  "))
        .map_err(|e| format!("cannot format the ESP: {e}"))?;
    {
        let fs = FileSystem::new(&mut volume, FsOptions::new())
            .map_err(|e| format!("cannot open the new ESP: {e}"))?;
        for (path, contents) in files {
            let root = fs.root_dir();
            let (dirs, name) = path.rsplit_once('/').unwrap_or(("", path));
            let mut dir = root;
            for part in dirs.split('/').filter(|p| !p.is_empty()) {
                dir =
                    dir.create_dir(part).map_err(|e| format!("ESP: cannot create {part}: {e}"))?;
            }
            let mut file =
                dir.create_file(name).map_err(|e| format!("ESP: cannot create {path}: {e}"))?;
            file.truncate().map_err(|e| format!("ESP: {path}: {e}"))?;
            file.write_all(contents).map_err(|e| format!("ESP: cannot write {path}: {e}"))?;
        }
        fs.unmount().map_err(|e| format!("ESP: cannot unmount: {e}"))?;
    }
    Ok(volume.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn files_read_back() {
        let volume =
            build(4 << 20, &[("EFI/BOOT/BOOTX64.EFI", b"MZ loader"), ("ingot/cmdline", b"x")])
                .unwrap();
        let mut cursor = Cursor::new(volume);
        let fs = FileSystem::new(&mut cursor, FsOptions::new()).unwrap();
        let mut text = String::new();
        fs.root_dir().open_file("EFI/BOOT/BOOTX64.EFI").unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "MZ loader");
    }
}
