// Screenshots: render into an offscreen framebuffer of a fixed size (so the picture does
// not depend on the window manager) and save it as a PNG.
#pragma once

#include <string>
#include <vector>

namespace sockscope {

// An OpenGL framebuffer with one RGBA8 colour buffer. Needs a current GL 3.3 context
// (glad loaded); use and destroy it on that context's thread.
class OffscreenTarget {
public:
    OffscreenTarget() = default;
    ~OffscreenTarget();
    OffscreenTarget(const OffscreenTarget&) = delete;
    OffscreenTarget& operator=(const OffscreenTarget&) = delete;

    bool Create(int width, int height, std::string& error);
    void Bind() const;     // draw into it (and set the viewport)
    static void Unbind();  // back to the window
    // The pixels as RGB, top row first (OpenGL reads bottom row first: flipped here).
    std::vector<unsigned char> ReadRgb() const;
    int Width() const { return W; }
    int Height() const { return H; }

private:
    unsigned Framebuffer = 0;
    unsigned Color = 0;
    int W = 0;
    int H = 0;
};

// Write 8-bit RGB pixels (top row first) as a PNG. On failure returns false and sets
// `error` to a short sentence naming the file.
bool WritePng(const std::string& path, int width, int height, const std::vector<unsigned char>& rgb,
              std::string& error);

} // namespace sockscope
