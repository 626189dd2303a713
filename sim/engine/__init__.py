"""SimPy plumbing: wires the model's services, workload and policies to simulated time."""
