#include "screenshot.hpp"

#include <glad/gl.h>
#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sockscope {

OffscreenTarget::~OffscreenTarget()
{
    if (Framebuffer)
        glDeleteFramebuffers(1, &Framebuffer);
    if (Color)
        glDeleteRenderbuffers(1, &Color);
}

bool OffscreenTarget::Create(int width, int height, std::string& error)
{
    W = width;
    H = height;
    glGenRenderbuffers(1, &Color);
    glBindRenderbuffer(GL_RENDERBUFFER, Color);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, width, height);
    glGenFramebuffers(1, &Framebuffer);
    glBindFramebuffer(GL_FRAMEBUFFER, Framebuffer);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, Color);
    GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    if (status != GL_FRAMEBUFFER_COMPLETE) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "the OpenGL offscreen buffer (%dx%d) is incomplete (0x%x)", width, height,
                      status);
        error = buf;
        return false;
    }
    return true;
}

void OffscreenTarget::Bind() const
{
    glBindFramebuffer(GL_FRAMEBUFFER, Framebuffer);
    glViewport(0, 0, W, H);
}

void OffscreenTarget::Unbind()
{
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

std::vector<unsigned char> OffscreenTarget::ReadRgb() const
{
    std::vector<unsigned char> bottom_up(static_cast<std::size_t>(W) * H * 3);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, Framebuffer);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(0, 0, W, H, GL_RGB, GL_UNSIGNED_BYTE, bottom_up.data());
    glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
    std::vector<unsigned char> top_down(bottom_up.size());
    std::size_t row = static_cast<std::size_t>(W) * 3;
    for (int y = 0; y < H; ++y)
        std::memcpy(&top_down[y * row], &bottom_up[(H - 1 - y) * row], row);
    return top_down;
}

namespace {

struct PngFile {
    std::FILE* File = nullptr;
    png_structp Png = nullptr;
    png_infop Info = nullptr;
    ~PngFile()
    {
        if (Png)
            png_destroy_write_struct(&Png, Info ? &Info : nullptr);
        if (File)
            std::fclose(File);
    }
};

} // namespace

bool WritePng(const std::string& path, int width, int height, const std::vector<unsigned char>& rgb,
              std::string& error)
{
    if (width <= 0 || height <= 0 || rgb.size() != static_cast<std::size_t>(width) * height * 3) {
        error = "cannot write " + path + ": the image is empty";
        return false;
    }
    PngFile out;
    out.File = std::fopen(path.c_str(), "wb");
    if (!out.File) {
        error = "cannot write " + path + ": " + std::strerror(errno);
        return false;
    }
    out.Png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    if (out.Png)
        out.Info = png_create_info_struct(out.Png);
    if (!out.Png || !out.Info) {
        error = "cannot write " + path + ": libpng could not start";
        return false;
    }
    std::vector<png_bytep> rows(static_cast<std::size_t>(height));
    for (int y = 0; y < height; ++y)
        rows[y] = const_cast<png_bytep>(&rgb[static_cast<std::size_t>(y) * width * 3]);
    // libpng reports errors by longjmp: nothing with a destructor is created below.
    if (setjmp(png_jmpbuf(out.Png))) {
        error = "cannot write " + path + ": libpng failed (disk full?)";
        return false;
    }
    png_init_io(out.Png, out.File);
    png_set_IHDR(out.Png, out.Info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    // A picture of the UI is mostly flat colour: the fastest settings cost little size.
    png_set_compression_level(out.Png, 1);
    png_set_filter(out.Png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
    png_write_info(out.Png, out.Info);
    png_write_image(out.Png, rows.data());
    png_write_end(out.Png, nullptr);
    if (std::fflush(out.File) != 0) {
        error = "cannot write " + path + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

} // namespace sockscope
