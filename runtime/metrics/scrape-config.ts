/** The scrape config a studio pastes into prometheus.yml for one agent. */
import os from 'node:os';

export function scrapeConfig(listen: { host: string; port: number }, tokenFile: string): string {
  // A wildcard address is not one Prometheus can dial: name the machine instead.
  const host = ['0.0.0.0', '::', ''].includes(listen.host) ? os.hostname() : listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return [
    'scrape_configs:',
    '  - job_name: offshift',
    '    scrape_interval: 15s',
    '    authorization:',
    '      type: Bearer',
    `      credentials_file: ${tokenFile}  # copy this file to the Prometheus host (keep it 0600)`,
    '    static_configs:',
    `      - targets: ['${host}:${listen.port}']`,
    '',
  ].join('\n');
}
