//! The files httpd serves: read once at start from a BMFS disk (through `ingot-bmfs`
//! over any sector device: the kernel's disk calls in the program, a byte slice in
//! tests), or a small built-in site when there is no BMFS disk.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use ingot_bmfs::{Bmfs, SectorDevice};

/// The configuration file's name on the disk; read, not served.
pub const CONFIG_FILE: &str = "httpd.cfg";

/// Largest file loaded (bigger ones are skipped and reported).
pub const MAX_FILE: u64 = 64 << 20;

const BUILT_IN_INDEX: &str = "<!DOCTYPE html>\n<html><head><title>Ingot</title></head>\n<body><h1>Ingot httpd</h1>\n<p>No BMFS disk was found, so this is the built-in page.</p></body></html>\n";

/// Named files in memory.
#[derive(Default)]
pub struct Site {
    names: Vec<String>,
    contents: Vec<Vec<u8>>,
    /// The configuration file's text, when the disk has one.
    pub config: Option<String>,
    /// Files left out (too large or unreadable), for the start-up report.
    pub skipped: Vec<String>,
}

impl Site {
    /// The built-in site: `index.html` only.
    pub fn built_in() -> Self {
        let mut site = Self::default();
        site.add("index.html", BUILT_IN_INDEX.as_bytes().to_vec());
        site
    }

    /// Every file of the BMFS disk on `device` (`Err` when it holds no BMFS).
    pub fn from_bmfs<D: SectorDevice>(device: D) -> Result<Self, ingot_bmfs::Error<D::Error>> {
        let mut fs = Bmfs::open(device)?;
        let entries: Vec<_> = fs.entries().collect();
        let mut site = Self::default();
        for entry in entries {
            let Some(name) = entry.name.to_str().map(ToString::to_string) else { continue };
            if entry.file_size > MAX_FILE {
                site.skipped.push(name);
                continue;
            }
            let mut data = vec![0; entry.file_size as usize];
            match fs.read_at(&name, 0, &mut data) {
                Ok(read) if read == data.len() => {}
                _ => {
                    site.skipped.push(name);
                    continue;
                }
            }
            if name == CONFIG_FILE {
                site.config = Some(String::from_utf8_lossy(&data).into_owned());
            } else {
                site.add(&name, data);
            }
        }
        Ok(site)
    }

    /// Adds (or replaces) a file.
    pub fn add(&mut self, name: &str, data: Vec<u8>) {
        match self.find(name) {
            Some(index) => self.contents[index] = data,
            None => {
                self.names.push(name.to_string());
                self.contents.push(data);
            }
        }
    }

    /// The index of file `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|known| known == name)
    }

    /// The bytes of file `index` (empty for an unknown index).
    pub fn file(&self, index: usize) -> &[u8] {
        self.contents.get(index).map_or(&[], Vec::as_slice)
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Bytes in all files.
    pub fn bytes(&self) -> usize {
        self.contents.iter().map(Vec::len).sum()
    }
}
