/** The Electron main entry (package.json "main": dist/main/main.js). */
import { runApp } from './app.js';

runApp(import.meta.url);
