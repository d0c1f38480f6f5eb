//! Reading files from the EFI system partition this loader was started from.

use uefi::boot;
use uefi::proto::media::file::{Directory, File, FileAttribute, FileMode, RegularFile};
use uefi::{CStr16, Result};

/// The root directory of the loader's own partition.
pub fn root() -> core::result::Result<Directory, &'static str> {
    let mut fs = boot::get_image_file_system(boot::image_handle())
        .map_err(|_| "cannot open the EFI system partition")?;
    fs.open_volume().map_err(|_| "cannot open the EFI system partition's root directory")
}

/// Opens a regular file; `None` if it does not exist or is a directory.
pub fn open(root: &mut Directory, path: &CStr16) -> Option<RegularFile> {
    let handle = root.open(path, FileMode::Read, FileAttribute::empty()).ok()?;
    handle.into_regular_file()
}

/// The file's length in bytes.
pub fn size(file: &mut RegularFile) -> Result<u64> {
    file.set_position(RegularFile::END_OF_FILE)?;
    let size = file.get_position()?;
    file.set_position(0)?;
    Ok(size)
}

/// Fills `buffer` from the file's start; returns the bytes read (short at end of file).
pub fn read(file: &mut RegularFile, buffer: &mut [u8]) -> Result<usize> {
    let mut done = 0;
    while done < buffer.len() {
        let got = file.read(&mut buffer[done..]).map_err(|e| e.to_err_without_payload())?;
        if got == 0 {
            break;
        }
        done += got;
    }
    Ok(done)
}
