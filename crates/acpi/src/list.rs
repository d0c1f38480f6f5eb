//! A fixed-capacity list: the parsers run before any allocator exists, and firmware
//! may list more entries than the kernel cares about. What does not fit is counted.

/// Up to `N` items of `T`, plus a count of the items that did not fit.
#[derive(Debug, Clone)]
pub struct BoundedList<T, const N: usize> {
    items: [T; N],
    len: usize,
    dropped: usize,
}

impl<T: Copy + Default, const N: usize> BoundedList<T, N> {
    /// The most items the list holds.
    pub const CAPACITY: usize = N;

    /// An empty list.
    pub fn new() -> Self {
        Self { items: [T::default(); N], len: 0, dropped: 0 }
    }

    /// Appends `item`; when the list is full, counts it as dropped and returns `false`.
    pub(crate) fn push(&mut self, item: T) -> bool {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = item;
                self.len += 1;
                true
            }
            None => {
                self.dropped = self.dropped.saturating_add(1);
                false
            }
        }
    }

    /// The items kept, in the order they were found.
    pub fn as_slice(&self) -> &[T] {
        &self.items[..self.len]
    }

    /// Iterates over the items kept.
    pub fn iter(&self) -> core::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    /// How many items were kept.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no item was kept.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many items were found beyond the capacity and not kept.
    pub fn dropped(&self) -> usize {
        self.dropped
    }
}

impl<T: Copy + Default, const N: usize> Default for BoundedList<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, T: Copy + Default, const N: usize> IntoIterator for &'a BoundedList<T, N> {
    type Item = &'a T;
    type IntoIter = core::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
