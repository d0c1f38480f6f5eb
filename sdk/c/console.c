/* Console output for C programs: writes through the table, and a small printf. */
#include "ingot_program.h"

int64_t ingot_write(const void *bytes, size_t len) {
    return ingot_api->console_write(bytes, len);
}

int ingot_puts(const char *text) {
    int64_t written = ingot_write(text, strlen(text));
    if (written < 0 || ingot_write("\n", 1) < 0) {
        return -1;
    }
    return (int)written + 1;
}

/* Output collected in a buffer, flushed when full and at the end. */
struct sink {
    char buffer[128];
    size_t used;
    int total;
};

static void flush(struct sink *sink) {
    if (sink->used > 0) {
        ingot_write(sink->buffer, sink->used);
        sink->used = 0;
    }
}

static void put(struct sink *sink, char c) {
    if (sink->used == sizeof sink->buffer) {
        flush(sink);
    }
    sink->buffer[sink->used++] = c;
    sink->total++;
}

static void put_number(struct sink *sink, uint64_t value, unsigned base, int upper, int negative,
                       int width, char pad) {
    char digits[24];
    int count = 0;
    const char *alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        digits[count++] = alphabet[value % base];
        value /= base;
    } while (value != 0);
    int length = count + negative;
    if (negative && pad == '0') {
        put(sink, '-');
    }
    for (; length < width; length++) {
        put(sink, pad);
    }
    if (negative && pad != '0') {
        put(sink, '-');
    }
    while (count > 0) {
        put(sink, digits[--count]);
    }
}

int ingot_vprintf(const char *format, va_list args) {
    struct sink sink = {.used = 0, .total = 0};
    for (const char *p = format; *p != '\0'; p++) {
        if (*p != '%') {
            put(&sink, *p);
            continue;
        }
        p++;
        char pad = ' ';
        if (*p == '0') {
            pad = '0';
            p++;
        }
        int width = 0;
        while (*p >= '0' && *p <= '9') {
            width = width * 10 + (*p++ - '0');
        }
        int longs = 0;
        while (*p == 'l' || *p == 'z') {
            longs = (*p == 'z') ? 2 : longs + 1;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t value = longs ? va_arg(args, int64_t) : va_arg(args, int);
            uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
            put_number(&sink, magnitude, 10, 0, value < 0, width, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t value = longs ? va_arg(args, uint64_t) : va_arg(args, unsigned);
            put_number(&sink, value, *p == 'u' ? 10 : 16, *p == 'X', 0, width, pad);
            break;
        }
        case 'p':
            put(&sink, '0');
            put(&sink, 'x');
            put_number(&sink, (uint64_t)(uintptr_t)va_arg(args, void *), 16, 0, 0, width, pad);
            break;
        case 's': {
            const char *text = va_arg(args, const char *);
            if (text == NULL) {
                text = "(null)";
            }
            for (int length = (int)strlen(text); length < width; length++) {
                put(&sink, ' ');
            }
            while (*text != '\0') {
                put(&sink, *text++);
            }
            break;
        }
        case 'c':
            put(&sink, (char)va_arg(args, int));
            break;
        case '%':
            put(&sink, '%');
            break;
        case '\0':
            p--;
            break;
        default:
            put(&sink, '%');
            put(&sink, *p);
        }
    }
    flush(&sink);
    return sink.total;
}

int ingot_printf(const char *format, ...) {
    va_list args;
    va_start(args, format);
    int count = ingot_vprintf(format, args);
    va_end(args);
    return count;
}
