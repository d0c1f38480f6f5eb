//! Read access to physical memory, as the boot-info parsers need it.

/// Reads bytes at physical addresses. The kernel implements it over the identity map;
/// tests implement it over a byte vector.
pub trait PhysicalMemory {
    /// Fills `buffer` from physical address `address`; `false` if that memory cannot be read.
    fn read(&self, address: u64, buffer: &mut [u8]) -> bool;

    /// Reads a little-endian `u32`.
    fn read_u32(&self, address: u64) -> Option<u32> {
        let mut bytes = [0; 4];
        self.read(address, &mut bytes).then(|| u32::from_le_bytes(bytes))
    }

    /// Reads a little-endian `u64`.
    fn read_u64(&self, address: u64) -> Option<u64> {
        let mut bytes = [0; 8];
        self.read(address, &mut bytes).then(|| u64::from_le_bytes(bytes))
    }
}

#[cfg(test)]
pub(crate) mod fake {
    use super::PhysicalMemory;

    /// Physical memory from address 0 up, as a byte vector.
    pub struct FakeMemory(pub Vec<u8>);

    impl FakeMemory {
        pub fn new(size: usize) -> Self {
            Self(vec![0; size])
        }

        pub fn put(&mut self, address: u64, bytes: &[u8]) {
            let start = address as usize;
            self.0[start..start + bytes.len()].copy_from_slice(bytes);
        }

        pub fn put_u32(&mut self, address: u64, value: u32) {
            self.put(address, &value.to_le_bytes());
        }

        pub fn put_u64(&mut self, address: u64, value: u64) {
            self.put(address, &value.to_le_bytes());
        }
    }

    impl PhysicalMemory for FakeMemory {
        fn read(&self, address: u64, buffer: &mut [u8]) -> bool {
            let start = address as usize;
            match self.0.get(start..start + buffer.len()) {
                Some(bytes) => {
                    buffer.copy_from_slice(bytes);
                    true
                }
                None => false,
            }
        }
    }
}
