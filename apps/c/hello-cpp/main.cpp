// hello-cpp: freestanding C++ on the native table: a class hierarchy with virtual
// calls, a template, global objects whose constructors the start file runs before main,
// and new/delete over the SDK's allocator. No exceptions, no RTTI. Returns 42.
#include "ingot_program.h"

namespace {

int constructed = 0;

class Greeter {
  public:
    explicit Greeter(const char *name) : name_(name) { constructed++; }
    const char *name() const { return name_; }

  private:
    const char *name_;
};

// Global objects: their constructors run from the start file's init_array loop.
Greeter first("first");
Greeter second("second");

class Shape {
  public:
    virtual ~Shape() = default;
    virtual uint64_t area() const = 0;
};

class Rectangle : public Shape {
  public:
    Rectangle(uint64_t width, uint64_t height) : width_(width), height_(height) {}
    uint64_t area() const override { return width_ * height_; }

  private:
    uint64_t width_, height_;
};

class Square : public Rectangle {
  public:
    explicit Square(uint64_t side) : Rectangle(side, side) {}
};

template <typename T, size_t N> class Stack {
  public:
    bool push(T value) {
        if (count_ == N) {
            return false;
        }
        items_[count_++] = value;
        return true;
    }
    T sum() const {
        T total{};
        for (size_t i = 0; i < count_; i++) {
            total += items_[i];
        }
        return total;
    }

  private:
    T items_[N]{};
    size_t count_ = 0;
};

} // namespace

int main(int argc, char **argv) {
    ingot_printf("hello from C++\n");
    ingot_printf("hello-cpp: globals constructed=%d (%s, %s)\n", constructed, first.name(),
                 second.name());
    Shape *shapes[3] = {new Rectangle(3, 4), new Square(5), new Rectangle(2, 8)};
    uint64_t total = 0;
    for (Shape *shape : shapes) {
        total += shape->area();
        delete shape;
    }
    ingot_printf("hello-cpp: areas=%lu\n", total);
    Stack<uint64_t, 8> stack;
    for (uint64_t i = 1; i <= 10; i++) {
        stack.push(i);
    }
    ingot_printf("hello-cpp: template stack sum=%lu\n", stack.sum());
    int *numbers = new int[16];
    for (int i = 0; i < 16; i++) {
        numbers[i] = i * i;
    }
    ingot_printf("hello-cpp: new[] numbers[15]=%d argc=%d argv[0]=%s\n", numbers[15], argc, argv[0]);
    delete[] numbers;
    return 42;
}
