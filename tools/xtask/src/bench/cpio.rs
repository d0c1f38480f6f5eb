//! A writer for the cpio "newc" format, the one Linux unpacks as an initramfs.
//!
//! The Linux peer's initramfs (busybox, `/init`, NIC modules, device nodes) is built with
//! this instead of the `cpio` tool, so a fresh machine needs nothing extra and device
//! nodes can be made without root. Format: per entry a 110-byte ASCII header (`070701`
//! and 13 eight-digit hex fields), the NUL-terminated name padded to 4 bytes, then the
//! data padded to 4 bytes; the archive ends with the entry `TRAILER!!!`.

/// Mode bits of the entry kinds we write.
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

/// An archive being built in memory.
#[derive(Default)]
pub struct Cpio {
    bytes: Vec<u8>,
    next_inode: u32,
}

impl Cpio {
    /// An empty archive.
    pub fn new() -> Self {
        Cpio { bytes: Vec::new(), next_inode: 1 }
    }

    /// A directory (`perm` e.g. 0o755).
    pub fn dir(&mut self, name: &str, perm: u32) {
        self.entry(name, S_IFDIR | perm, 2, (0, 0), &[]);
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, S_IFREG | perm, 1, (0, 0), data);
    }

    /// A symbolic link whose target is `target`.
    pub fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, S_IFLNK | 0o777, 1, (0, 0), target.as_bytes());
    }

    /// A character device node.
    pub fn char_device(&mut self, name: &str, perm: u32, major: u32, minor: u32) {
        self.entry(name, S_IFCHR | perm, 1, (major, minor), &[]);
    }

    /// Ends the archive and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.next_inode = 0;
        self.entry("TRAILER!!!", 0, 1, (0, 0), &[]);
        self.bytes
    }

    fn entry(&mut self, name: &str, mode: u32, nlink: u32, rdev: (u32, u32), data: &[u8]) {
        let inode = self.next_inode;
        self.next_inode += 1;
        let fields = [
            inode,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime: fixed, so the archive is reproducible
            data.len() as u32,
            0, // devmajor
            0, // devminor
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0, // check (only for the crc format)
        ];
        self.bytes.extend_from_slice(b"070701");
        for field in fields {
            self.bytes.extend_from_slice(format!("{field:08X}").as_bytes());
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cpio;

    /// Reads back (name, mode, rdev major, data) entries, following the format rules.
    fn parse(bytes: &[u8]) -> Vec<(String, u32, u32, Vec<u8>)> {
        let mut at = 0;
        let mut out = Vec::new();
        let field = |at: usize, i: usize| {
            let text = std::str::from_utf8(&bytes[at + 6 + 8 * i..at + 14 + 8 * i]).unwrap();
            u32::from_str_radix(text, 16).unwrap() as usize
        };
        loop {
            assert_eq!(&bytes[at..at + 6], b"070701");
            let (mode, size, major, name_len) =
                (field(at, 1), field(at, 6), field(at, 9), field(at, 11));
            let name = std::str::from_utf8(&bytes[at + 110..at + 110 + name_len - 1]).unwrap();
            assert_eq!(bytes[at + 110 + name_len - 1], 0);
            let data_at = (at + 110 + name_len).next_multiple_of(4);
            let data = bytes[data_at..data_at + size].to_vec();
            at = (data_at + size).next_multiple_of(4);
            if name == "TRAILER!!!" {
                assert_eq!(at, bytes.len());
                return out;
            }
            out.push((name.to_string(), mode as u32, major as u32, data));
        }
    }

    #[test]
    fn entries_read_back() {
        let mut cpio = Cpio::new();
        cpio.dir("bin", 0o755);
        cpio.file("init", 0o755, b"#!/bin/sh\necho hi\n");
        cpio.symlink("bin/sh", "busybox");
        cpio.char_device("dev/console", 0o600, 5, 1);
        let bytes = cpio.finish();
        assert_eq!(bytes.len() % 4, 0);
        let entries = parse(&bytes);
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0], ("bin".to_string(), 0o040_755, 0, vec![]));
        assert_eq!(
            entries[1],
            ("init".to_string(), 0o100_755, 0, b"#!/bin/sh\necho hi\n".to_vec())
        );
        assert_eq!(entries[2], ("bin/sh".to_string(), 0o120_777, 0, b"busybox".to_vec()));
        assert_eq!(entries[3], ("dev/console".to_string(), 0o020_600, 5, vec![]));
    }
}
