/** Shared test set-up. Testing Library's findBy / waitFor give up after 1 s by default; on a loaded 2-core CI
 * machine (the console tests run beside the Python set-up) a render can take longer, and a slow pass is not a
 * wrong one. */
import { configure } from "@testing-library/react";

configure({ asyncUtilTimeout: 5000 });
