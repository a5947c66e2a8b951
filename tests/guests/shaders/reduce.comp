// total += the sum of v[0..n) (unsigned): a tree in workgroup memory, then
// one atomic add per workgroup.  n comes as a push constant.
#version 450
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In { uint v[]; };
layout(std430, binding = 1) buffer Out { uint total; };
layout(push_constant) uniform P { uint n; } pc;
shared uint part[256];
void main() {
  uint i = gl_GlobalInvocationID.x, l = gl_LocalInvocationID.x;
  part[l] = i < pc.n ? v[i] : 0u;
  barrier();
  for (uint s = 128u; s > 0u; s >>= 1) {
    if (l < s) part[l] += part[l + s];
    barrier();
  }
  if (l == 0u) atomicAdd(total, part[0]);
}
