/**
 * The macOS launchd daemon (/Library/LaunchDaemons/dev.offshift.agent.plist), as a pure
 * function. Not testable on this machine (no launchd): docs/service.md says how to install it
 * by hand, and the unit test checks it is well-formed XML with the right keys.
 */
import { LAUNCHD_LABEL, type ServiceConfig } from './config.js';

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function launchdPlist(config: ServiceConfig): string {
  const args = [config.node, ...config.nodeFlags, config.cli, 'agent', '--port', String(config.port)];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key><string>${LAUNCHD_LABEL}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...args.map((a) => `    <string>${xml(a)}</string>`),
    '  </array>',
    `  <key>UserName</key><string>${xml(config.user)}</string>`,
    `  <key>GroupName</key><string>${xml(config.group)}</string>`,
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    `    <key>OFFSHIFT_HOME</key><string>${xml(config.home)}</string>`,
    '    <key>OFFSHIFT_TOKEN_MODE</key><string>0640</string>',
    '  </dict>',
    `  <key>WorkingDirectory</key><string>${xml(config.home)}</string>`,
    '  <key>RunAtLoad</key><true/>',
    '  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>',
    '  <key>ExitTimeOut</key><integer>45</integer>',
    '  <key>Umask</key><integer>23</integer>',
    `  <key>StandardErrorPath</key><string>${xml(config.home)}/logs/service.log</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

/**
 * The Windows service definition for WinSW (a small service wrapper: Windows services must speak
 * the Service Control Manager's protocol, which node does not): saved as offshift-service.xml
 * beside WinSW's executable, then `offshift-service.exe install`. Documented, not testable here.
 */
export function winswXml(config: ServiceConfig): string {
  return [
    '<service>',
    '  <id>Offshift</id>',
    '  <name>Offshift agent</name>',
    '  <description>Leases this computer\'s idle GPUs (Offshift).</description>',
    `  <executable>${xml(config.node)}</executable>`,
    `  <arguments>${config.nodeFlags.map((f) => `${xml(f)} `).join('')}"${xml(config.cli)}" agent --port ${config.port}</arguments>`,
    `  <env name="OFFSHIFT_HOME" value="${xml(config.home)}"/>`,
    '  <startmode>Automatic</startmode>',
    '  <delayedAutoStart>true</delayedAutoStart>',
    '  <stoptimeout>45 sec</stoptimeout>',
    '  <onfailure action="restart" delay="5 sec"/>',
    '  <serviceaccount><username>NT SERVICE\\Offshift</username></serviceaccount>',
    `  <logpath>${xml(config.home)}\\logs</logpath>`,
    '</service>',
    '',
  ].join('\n');
}
