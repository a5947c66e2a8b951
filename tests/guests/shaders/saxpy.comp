// y = a * x + y over floats; a is a push constant.
#version 450
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
layout(push_constant) uniform P { float a; } pc;
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < y.length()) y[i] = pc.a * x[i] + y[i];
}
