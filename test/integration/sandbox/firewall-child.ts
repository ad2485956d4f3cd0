/**
 * The egress firewall's check, install and removal in a process of its own, for the capability
 * test (which starts it as a non-root user with only the service's capabilities).
 * argv: the steps (check, install, remove; comma-separated), bridge, chain. Prints one JSON line:
 * each step's result, in order; the first step that throws ends the run with its error.
 */
import { firewallUnavailable, hasNetAdmin, installFirewall, removeFirewall } from '../../../runtime/sandbox/egress/firewall.js';

const [steps, bridge, chain] = process.argv.slice(2);
const results: unknown[] = [];
try {
  for (const step of steps!.split(',')) {
    if (step === 'check') results.push({ uid: process.getuid?.(), netAdmin: hasNetAdmin(), unavailable: await firewallUnavailable() });
    else if (step === 'install') {
      await installFirewall({ bridge: bridge!, chain: chain!, gateway: '10.251.0.1', proxyPort: 3128 });
      results.push('installed');
    } else if (step === 'remove') {
      await removeFirewall({ bridge: bridge!, chain: chain! });
      results.push('removed');
    } else throw new Error(`unknown step ${step}`);
  }
} catch (error) {
  results.push({ error: (error as Error).message });
}
process.stdout.write(JSON.stringify(results) + '\n');
