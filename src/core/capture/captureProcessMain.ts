/** The script a store's first point is captured in (`CaptureProcessOptions.script`): bundled as `dist/captureProcess.js`. */
import { serveCaptureRequests } from './captureProcess';

serveCaptureRequests();
