#include "font_texture.hpp"

#include <glad/gl.h>

#include <imgui.h>
#include <imgui_impl_opengl3.h>

#include <cstdint>

#include <malloc.h>

namespace sockscope {

void FontTexture::Upload()
{
    ImGuiIO& io = ImGui::GetIO();
    // The backend makes its shader and buffers with an RGBA font texture, at its first
    // NewFrame unless done here; ours replaces that texture.
    if (!BackendReady) {
        ImGui_ImplOpenGL3_CreateDeviceObjects();
        ImGui_ImplOpenGL3_DestroyFontsTexture();
        BackendReady = true;
    }
    Destroy();
    unsigned char* pixels = nullptr;
    int width = 0, height = 0;
    io.Fonts->GetTexDataAsAlpha8(&pixels, &width, &height);

    GLint last_texture = 0, last_alignment = 4;
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &last_texture);
    glGetIntegerv(GL_UNPACK_ALIGNMENT, &last_alignment);
    glGenTextures(1, &Id);
    glBindTexture(GL_TEXTURE_2D, Id);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    // What the backend's RGBA atlas holds: white, with the glyph's coverage as alpha.
    const GLint swizzle[] = {GL_ONE, GL_ONE, GL_ONE, GL_RED};
    glTexParameteriv(GL_TEXTURE_2D, GL_TEXTURE_SWIZZLE_RGBA, swizzle);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, width, height, 0, GL_RED, GL_UNSIGNED_BYTE, pixels);
    glPixelStorei(GL_UNPACK_ALIGNMENT, last_alignment);
    glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(last_texture));
    io.Fonts->SetTexID(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(Id)));

    // The pixels live on in the texture. Building the atlas freed several megabytes
    // (font files, glyph bitmaps, the backend's RGBA copy) in the middle of the heap,
    // where glibc keeps them unless asked.
    io.Fonts->ClearTexData();
    malloc_trim(0);
}

void FontTexture::Destroy()
{
    if (Id == 0)
        return;
    glDeleteTextures(1, &Id);
    Id = 0;
    if (ImGui::GetCurrentContext())
        ImGui::GetIO().Fonts->SetTexID(ImTextureID{});
}

} // namespace sockscope
