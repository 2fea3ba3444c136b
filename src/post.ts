import { runPost } from './main'

void runPost()
