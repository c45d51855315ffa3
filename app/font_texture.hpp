// The font atlas on the GPU as one channel (GL_R8, sampled as white with the atlas's
// coverage as alpha through a swizzle), a quarter of the RGBA texture Dear ImGui's
// OpenGL3 backend would make; the atlas's pixels are freed once uploaded. Without a GPU,
// Mesa's llvmpipe keeps the texture in our memory, so both copies counted there.
// Needs the current GL 3.3 context (glad loaded) and the ImGui context; UI thread only.
#pragma once

namespace sockscope {

class FontTexture {
public:
    FontTexture() = default;
    ~FontTexture() { Destroy(); }
    FontTexture(const FontTexture&) = delete;
    FontTexture& operator=(const FontTexture&) = delete;

    // The current atlas (built by LoadFonts) as the texture ImGui draws text with; any
    // earlier one deleted. The backend's own device objects are made first if missing,
    // and its RGBA font texture deleted. Not between NewFrame and Render.
    void Upload();
    void Destroy();

private:
    unsigned Id = 0;
    bool BackendReady = false; // the backend's device objects are made
};

} // namespace sockscope
