"""`saraban bench`: the figures of every issue, each printed with its target.

* `suite`: the bench itself (`run_bench`): the national scan on the simulated internet, its lower
  bound, the store's and the watcher's figures, and the console's, from probes run in processes of
  their own;
* `console_probe`: the console's probe (`python -m console.bench.console_probe`). Its figure starts
  at the process's launch, so its process must load what `saraban` loads and no more: this package
  file stays empty of imports (the suite's imports, the simulated internet among them, would
  otherwise count in the console's first screen);
* `measure`, `bounds`: what both use.
"""
