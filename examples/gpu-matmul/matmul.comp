// c = a x b for n x n row-major float matrices (n a push constant), in
// 16 x 16 tiles through workgroup memory.
#version 450
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer C { float c[]; };
layout(push_constant) uniform P { uint n; } pc;
shared float ta[16][16];
shared float tb[16][16];
void main() {
  uint n = pc.n, row = gl_GlobalInvocationID.y, col = gl_GlobalInvocationID.x;
  uint lr = gl_LocalInvocationID.y, lc = gl_LocalInvocationID.x;
  float sum = 0.0;
  for (uint t = 0u; t < n; t += 16u) {
    ta[lr][lc] = row < n && t + lc < n ? a[row * n + t + lc] : 0.0;
    tb[lr][lc] = col < n && t + lr < n ? b[(t + lr) * n + col] : 0.0;
    barrier();
    for (uint k = 0u; k < 16u; k++) sum += ta[lr][k] * tb[k][lc];
    barrier();
  }
  if (row < n && col < n) c[row * n + col] = sum;
}
