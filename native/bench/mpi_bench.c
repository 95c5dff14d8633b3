/* Open MPI's figures for the process-group benchmark (bench/scenarios/group.cjs runs it under
 * mpirun -np N): MPI_Barrier and MPI_Allreduce (sum) of 1, 1 024 and 1 M doubles. Rank 0 prints one
 * JSON row per operation in the format of bench/lib/report.cjs, with one run per repetition.
 * Usage: mpirun -np N mpi_bench REPETITIONS MODE_LABEL */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static void print_row(int size, const char *op, const char *mode, double *runs, int reps) {
  printf("{\"area\":\"group\",\"mechanism\":\"Open MPI %s\",\"mode\":\"%s\",\"payload\":null,\"metric\":\"us_per_op\","
         "\"placement\":\"%d processes\",\"baseline\":true,\"note\":\"size %d\",\"runs\":[",
         op, mode, size, size);
  for (int i = 0; i < reps; i++) printf("%s%.4f", i ? "," : "", runs[i]);
  printf("]}\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  const char *mode = argc > 2 ? argv[2] : "busy-poll";
  if (reps < 1 || reps > 100) reps = 5;
  double runs[100];
  const int counts[] = {0, 1, 1024, 1 << 20};
  const char *names[] = {"barrier", "allReduce 1 double", "allReduce 1024 doubles", "allReduce 1M doubles"};
  double *in = malloc(sizeof(double) << 20), *out = malloc(sizeof(double) << 20);
  for (int i = 0; i < 1 << 20; i++) in[i] = rank + i;
  for (int k = 0; k < 4; k++) {
    int n = counts[k];
    int iters = n == 0 ? 20000 : n == 1 ? 20000 : n == 1024 ? 5000 : 20;
    if (size > 2 && n < (1 << 20)) iters /= 10;
    for (int r = -1; r < reps; r++) {
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = MPI_Wtime();
      for (int i = 0; i < iters; i++) {
        if (n == 0)
          MPI_Barrier(MPI_COMM_WORLD);
        else
          MPI_Allreduce(in, out, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      }
      double us = (MPI_Wtime() - t0) * 1e6 / iters;
      if (r >= 0) runs[r] = us; /* r == -1 warms up */
    }
    if (rank == 0) print_row(size, names[k], mode, runs, reps);
  }
  free(in);
  free(out);
  MPI_Finalize();
  return 0;
}
