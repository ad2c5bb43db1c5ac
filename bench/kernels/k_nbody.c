// Compute kernel: gravitational n-body, 48 bodies with pseudo-random masses and positions,
// symplectic Euler steps; prints the total energy before and after (it must stay nearly constant,
// and the wasm and native digits must agree: only + - * / sqrt are used).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 48 };
static double px[N], py[N], pz[N], vx[N], vy[N], vz[N], m[N];

static uint64_t seed = 0x2545F4914F6CDD1DULL;
static double rnd(void) {
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(seed >> 11) / 9007199254740992.0;
}

static double energy(void) {
  double e = 0;
  for (int i = 0; i < N; i++) {
    e += 0.5 * m[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
    for (int j = i + 1; j < N; j++) {
      double dx = px[i] - px[j], dy = py[i] - py[j], dz = pz[i] - pz[j];
      e -= m[i] * m[j] / sqrt(dx * dx + dy * dy + dz * dz + 0.01);
    }
  }
  return e;
}

static void step(double dt) {
  for (int i = 0; i < N; i++) {
    double ax = 0, ay = 0, az = 0;
    for (int j = 0; j < N; j++) {
      if (j == i) continue;
      double dx = px[j] - px[i], dy = py[j] - py[i], dz = pz[j] - pz[i];
      double d2 = dx * dx + dy * dy + dz * dz + 0.01;
      double inv = m[j] / (d2 * sqrt(d2));
      ax += dx * inv; ay += dy * inv; az += dz * inv;
    }
    vx[i] += dt * ax; vy[i] += dt * ay; vz[i] += dt * az;
  }
  for (int i = 0; i < N; i++) {
    px[i] += dt * vx[i]; py[i] += dt * vy[i]; pz[i] += dt * vz[i];
  }
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 60000;
  for (int i = 0; i < N; i++) {
    m[i] = 0.5 + rnd();
    px[i] = 10 * rnd() - 5; py[i] = 10 * rnd() - 5; pz[i] = 10 * rnd() - 5;
    vx[i] = 0.1 * rnd() - 0.05; vy[i] = 0.1 * rnd() - 0.05; vz[i] = 0.1 * rnd() - 0.05;
  }
  printf("nbody %d bodies, %d steps\n", N, steps);
  printf("energy before %.12f\n", energy());
  for (int s = 0; s < steps; s++) step(0.0005);
  printf("energy after  %.12f\n", energy());
  printf("body 0 at %.9f %.9f %.9f\n", px[0], py[0], pz[0]);
  return 0;
}
